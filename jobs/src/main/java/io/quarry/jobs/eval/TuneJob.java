package io.quarry.jobs.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.quarry.core.config.EvaluationConfig;
import io.quarry.core.config.QuarryConfig;
import io.quarry.core.config.TuningConfig;
import io.quarry.core.eval.FusionTuner;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.segment.IndexVersion;
import io.quarry.embed.Embedder;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.StageJob;
import io.quarry.jobs.build.PublishedIndex;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code quarry tune}: chooses the hybrid search's operating point (fusion, candidate depth, nprobe) on the
 * <em>training</em> qrels of {@code tuning.qrels} ({@link FusionTuner}, Spark-free; this job only reads the inputs and
 * the version), prints the curve, writes {@code tuning.json} next to the version's manifest and, with
 * {@code tuning.write}, the choice into the manifest's {@code search} field, so that serving and evaluation use it by
 * default. The version is {@code segments.version}, else the published one. Without {@code tuning.qrels} the stage
 * is skipped (the built-in default fusion applies) when run inside {@code pipeline}, and fails when run alone.
 */
public final class TuneJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(TuneJob.class);
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** File beside the manifest with every grid point and the curve. */
  public static final String FILE_NAME = "tuning.json";

  private final boolean optional;

  /** @param optional skip (with a note) instead of failing when no training qrels are configured */
  public TuneJob(boolean optional) {
    this.optional = optional;
  }

  @Override
  public String name() {
    return "tune";
  }

  @Override
  public JobSummary run(JobContext ctx) throws Exception {
    QuarryConfig c = ctx.config();
    TuningConfig t = c.tuning();
    EvaluationConfig e = c.evaluation();
    JobSummary s = new JobSummary(name());
    if (!t.enabled()) {
      if (optional) {
        LOG.info("tune: skipped, tuning.qrels is not set (the built-in default fusion applies)");
        return s.put("skipped", "tuning.qrels is not set");
      }
      throw new IllegalArgumentException("tuning.qrels is not set: give training (or dev) qrels, never the test "
          + "qrels the evaluation reports");
    }
    if (t.qrels().equals(e.qrelsPath())) {
      throw new IllegalArgumentException("tuning.qrels is the evaluation's qrels (" + t.qrels() + "): tune on a "
          + "training or dev split, never on the test set");
    }
    EvalInputs in = EvalInputs.read(ctx.hadoopConf(), format(c), queriesPath(c), t.qrels());
    List<FusionTuner.Query> queries = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    for (String qid : in.qrels().queryIds()) {
      queries.add(new FusionTuner.Query(qid, in.texts().get(qid)));
      texts.add(in.texts().get(qid));
    }
    Embedder embedder = Embedder.open(c.embedding());
    long t0 = System.nanoTime();
    float[][] qv = embedder.embedQueries(texts);
    Map<String, float[]> byText = new HashMap<>();
    for (int i = 0; i < texts.size(); i++) {
      byText.put(texts.get(i), qv[i]);
    }
    LOG.info("tune: embedded {} training queries in {} ms", texts.size(), (System.nanoTime() - t0) / 1_000_000);

    try (EvaluatedIndex index = EvaluatedIndex.open(ctx, embedder)) {
      IndexVersion version = index.version();
      if (index.bm25() == null) {
        throw new IllegalStateException("index version " + version.manifest().version() + " has no BM25 part: "
            + "nothing to fuse");
      }
      HybridSearcher searcher = index.searcher(byText, embedder, null);
      t0 = System.nanoTime();
      FusionTuner.Result r = new FusionTuner(searcher, in.qrels(), t).tune(queries, t.qrels());
      LOG.info("tune: {} grid points in {} s", r.points().size(), (System.nanoTime() - t0) / 1_000_000_000);
      System.out.print(FusionTuner.describe(r));
      String dir = EvaluateJob.child(c.paths().indexDir(), version.manifest().version());
      ctx.writeString(EvaluateJob.child(dir, FILE_NAME), JSON.writeValueAsString(r));
      if (r.chosen() == null) {
        throw new IllegalStateException("no tuning grid point fits the budget (tuning.maxP50Ms "
            + t.maxP50Ms() + ", tuning.maxBytesPerQuery " + t.maxBytesPerQuery() + "); see " + FILE_NAME);
      }
      if (t.write()) {
        PublishedIndex.rewriteManifest(ctx, version.manifest().withSearch(r.defaults()));
      }
      return s.put("version", version.manifest().version()).put("queries", queries.size())
          .put("points", r.points().size()).put("chosen", r.chosen()).put("curve", r.curve())
          .put("flatRange", r.flatRange()).put("singleStages", r.singleStages()).put("written", t.write());
    }
  }

  /** The tuning split's format: {@code tuning.format}, else {@code evaluation.format}. */
  static String format(QuarryConfig c) {
    String f = c.tuning().format();
    return f == null || f.isBlank() ? c.evaluation().format() : f;
  }

  /** The tuning split's queries file: {@code tuning.queries}, else {@code evaluation.queries}. */
  static String queriesPath(QuarryConfig c) {
    String q = c.tuning().queries();
    return q == null || q.isBlank() ? c.evaluation().queries() : q;
  }

  /** Reads {@code tuning.json} of a local version directory, or null if the version was not tuned. */
  public static FusionTuner.Result read(Path versionDir) throws java.io.IOException {
    Path p = versionDir.resolve(FILE_NAME);
    return java.nio.file.Files.exists(p) ? JSON.readValue(p.toFile(), FusionTuner.Result.class) : null;
  }
}
