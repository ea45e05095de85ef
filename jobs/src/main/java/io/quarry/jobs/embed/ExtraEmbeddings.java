package io.quarry.jobs.embed;

import io.quarry.core.config.EmbeddingConfig;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embed stage's part for {@code embedding.extraModels} (issue 26): embeds the same chunks ({@code paths.chunks},
 * whatever tokenizer cut them) with every extra model, each into {@link EmbeddingConfig#extraEmbeddingsDir}
 * ({@code <paths.embeddings>@<model>}), by running {@link EmbedJob} itself with the model and output replaced: one
 * implementation of embedding (partitioning, prefixes, reuse, {@code _model.json}). {@code embedding.reuseFrom}
 * applies to each extra model as to the primary one ({@code auto}: that model's own previous output). Nothing to do
 * without extra models.
 */
public final class ExtraEmbeddings {
  private static final Logger LOG = LoggerFactory.getLogger(ExtraEmbeddings.class);

  private ExtraEmbeddings() {}

  /**
   * Embeds the chunks with every extra model, adding each run's summary to {@code summary} under
   * {@code extraModels}.
   */
  public static void run(JobContext ctx, JobSummary summary) throws Exception {
    EmbeddingConfig ec = ctx.config().embedding();
    if (ec.extraModels().isEmpty()) {
      return;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (String model : ec.extraModels()) {
      String dir = EmbeddingConfig.extraEmbeddingsDir(ctx.config().paths().embeddingsDir(), model);
      String reuse = EmbeddingConfig.REUSE_AUTO.equals(ec.reuseFrom()) ? EmbeddingConfig.REUSE_AUTO : "\"\"";
      JobContext extra = ctx.with("embedding.model=" + model, "embedding.modelPath=\"\"",
          "embedding.extraModels=[]", "paths.embeddings=" + dir, "embedding.reuseFrom=" + reuse);
      LOG.info("embed: extra model {} into {}", model, dir);
      JobSummary s = new EmbedJob().run(extra);
      out.put(model, Map.of("output", dir, "chunks", s.get("chunks"), "computed", s.get("computed"),
          "seconds", s.get("seconds")));
    }
    summary.put("extraModels", out);
  }
}
