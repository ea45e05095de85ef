package io.quarry.jobs;

import io.quarry.core.config.ConfigException;
import io.quarry.core.config.ConfigInputs;
import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.ConfigMatrix;
import io.quarry.core.config.EmbeddingConfig;
import io.quarry.core.config.QuarryConfig;
import io.quarry.embed.ModelFiles;
import io.quarry.jobs.build.BuildIndexJob;
import io.quarry.jobs.chunk.ChunkJob;
import io.quarry.jobs.embed.EmbedJob;
import io.quarry.jobs.eval.EvaluateJob;
import io.quarry.jobs.eval.ReportCommand;
import io.quarry.jobs.eval.TuneJob;
import io.quarry.jobs.train.TrainQuantizerJob;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code quarry pipeline --matrix key=v1;v2 …}, or a {@code matrix} section of a config file ({@code matrix:
 * {embedding.model: [a, b], quantizer.spec: ["IVF16,PQ24x8", "IVF32,PQ48x8"]}}, {@link ConfigMatrix#axes}; a flag
 * replaces the file's axis of its key): an experiment as configuration. The variants are the cross product of the
 * axes' values (the first axis varies slowest); each variant is the command line's config plus its overrides.
 *
 * <p>Every variant's config, evaluation inputs and tokenizer are validated before any work (all problems in one
 * list, exit 2). Then, in one Spark application: the chunk stage once per distinct chunking input (input, chunking
 * and the content of the tokenizer that cuts the chunks: models with identical tokenizers share chunks), the embed
 * stage once per distinct chunks × embedding config, and train, build, tune (when {@code tuning.qrels} is set) and
 * evaluate per variant. Outputs: {@code <paths.work>/matrix/shared/{chunks,embeddings}-<key>} (shared),
 * {@code <paths.work>/matrix/<variant-id>/} (quantizer, index, evaluation with run id = variant id, and beside its
 * {@code metrics.json} a {@code build.json} with the variant's build seconds) and
 * {@code <paths.work>/matrix/report/} (the {@code quarry report} leaderboard with a build-time column, baseline = the
 * first variant). Variants are built with {@code segments.publish=false}: the matrix never moves a {@code CURRENT},
 * neither the main index's nor its own.
 */
final class MatrixPipeline {
  private static final Logger LOG = LoggerFactory.getLogger(MatrixPipeline.class);

  private MatrixPipeline() {}

  /**
   * A variant with its full overrides and where its inputs are shared.
   *
   * @param chunksDir shared by the variants with the same input, chunking and tokenizer content
   * @param embeddingsDir shared by the variants with the same chunks and embedding config
   * @param evalDir its evaluation's directory ({@code metrics.json}, {@code build.json})
   */
  record Planned(MatrixAxes.Variant variant, List<String> overrides, String chunksDir, String embeddingsDir,
      String evalDir) {}

  /** What the Spark part did: per variant its build seconds, and the passes of the shared stages. */
  private record Built(Map<String, Double> buildSeconds, int chunkPasses, int embedPasses) {}

  /** Where a matrix writes: {@code <paths.work>/matrix/{shared,<variant>,report}}. */
  record Layout(String root) {
    static Layout of(QuarryConfig base) {
      return new Layout(child(base.paths().work(), "matrix"));
    }

    String shared(String name) {
      return child(child(root, "shared"), name);
    }

    String variant(String id) {
      return child(root, id);
    }

    String report() {
      return child(root, "report");
    }
  }

  /** Runs the matrix; see the class comment. */
  static int run(QuarryCli.ConfigOptions opts, List<String> matrixArgs) throws Exception {
    List<MatrixAxes.Variant> variants = MatrixAxes.variants(MatrixAxes.axes(opts, matrixArgs));
    QuarryConfig base = opts.load();
    Layout at = Layout.of(base);
    List<Planned> plan = plan(opts, variants, at, QuarryCli.hadoopConf(base));
    Built built = build(opts, base, plan);
    System.out.println(new JobSummary("pipeline-matrix").put("variants", variants.size())
        .put("chunkPasses", built.chunkPasses()).put("embedPasses", built.embedPasses())
        .put("buildSeconds", built.buildSeconds()).put("report", at.report()).toJson());
    return report(base, at, plan, built);
  }

  /**
   * Validates every variant (its config and every input, {@link QuarryCli.ConfigOptions#loadChecked}) and the
   * tokenizer of each, before any work, and lays the variants out.
   *
   * @throws ConfigException every problem of every variant, each prefixed with the variant's id
   */
  static List<Planned> plan(QuarryCli.ConfigOptions opts, List<MatrixAxes.Variant> variants, Layout at,
      Configuration hconf) throws Exception {
    List<String> problems = new ArrayList<>();
    List<Planned> plan = new ArrayList<>();
    Map<String, String> tokenizers = new LinkedHashMap<>(); // model id + path to the tokenizer's SHA-256
    for (MatrixAxes.Variant v : variants) {
      QuarryConfig c;
      String tokenizerSha;
      try {
        c = opts.loadChecked(ConfigInputs.ALL_STAGES, v.overrides().toArray(String[]::new));
        EmbeddingConfig ec = c.embedding();
        tokenizerSha = tokenizers.get(ec.model() + "\n" + ec.modelPath());
        if (tokenizerSha == null) {
          tokenizerSha = tokenizerSha(ec, hconf);
          tokenizers.put(ec.model() + "\n" + ec.modelPath(), tokenizerSha);
        }
      } catch (ConfigException e) {
        e.violations().forEach(p -> problems.add(v.id() + ": " + p));
        continue;
      } catch (Exception e) {
        problems.add(v.id() + ": embedding.model: cannot read its tokenizer.json: " + e.getMessage());
        continue;
      }
      plan.add(planned(v, c, tokenizerSha, at));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return plan;
  }

  /**
   * Lays one variant out. The chunks depend on the input, the chunking settings and the tokenizer that cuts the
   * windows: they are keyed by the tokenizer's content ({@link #tokenizerSha}), so models whose tokenizers are
   * identical share one chunk pass; the embeddings on the chunks and the whole embedding config.
   */
  static Planned planned(MatrixAxes.Variant v, QuarryConfig c, String tokenizerSha, Layout at) {
    String chunkKey = key(c.input().toString(), c.chunking().toString(), tokenizerSha);
    String embKey = key(chunkKey, c.embedding().toString());
    String chunksDir = at.shared("chunks-" + chunkKey);
    String embDir = at.shared("embeddings-" + embKey);
    String dir = at.variant(v.id());
    List<String> o = new ArrayList<>(v.overrides());
    o.addAll(List.of("paths.work=" + dir, "paths.chunks=" + chunksDir, "paths.embeddings=" + embDir,
        "paths.quantizer=" + child(dir, "quantizer"), "paths.index=" + child(dir, "index"),
        "paths.eval=" + child(dir, "eval"), "paths.quarantine=" + child(dir, "quarantine"),
        "segments.publish=false", "evaluation.runId=" + v.id()));
    return new Planned(v, o, chunksDir, embDir, child(child(dir, "eval"), v.id()));
  }

  /**
   * What of the model's {@code tokenizer.json} decides the chunks, as a SHA-256: the file without its top-level
   * {@code truncation} and {@code padding} settings, which the chunker overrides (it tokenizes without either,
   * {@code HfTokenizer}); a custom model's file is read through Hadoop (any URI).
   */
  static String tokenizerSha(EmbeddingConfig ec, Configuration hconf) throws Exception {
    byte[] json;
    if (!ModelFiles.CUSTOM.equals(ec.model())) {
      json = ModelFiles.loadTokenizerJson(ec);
    } else {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(ec.modelPath(), "tokenizer.json");
      try (java.io.InputStream in = p.getFileSystem(hconf).open(p)) {
        json = in.readAllBytes();
      }
    }
    return chunkingDigest(json);
  }

  /** {@link #tokenizerSha} of {@code tokenizer.json} bytes. */
  static String chunkingDigest(byte[] tokenizerJson) throws java.io.IOException {
    com.fasterxml.jackson.databind.ObjectMapper m = new com.fasterxml.jackson.databind.ObjectMapper();
    com.fasterxml.jackson.databind.JsonNode root = m.readTree(tokenizerJson);
    if (root instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
      o.remove(List.of("truncation", "padding"));
    }
    return ModelFiles.sha256(m.writeValueAsBytes(root));
  }

  /**
   * Chunk and embed once per shared directory, train, build, tune and evaluate every variant, in one Spark
   * application; each variant's build time goes to {@code build.json} beside its {@code metrics.json}.
   */
  private static Built build(QuarryCli.ConfigOptions opts, QuarryConfig base, List<Planned> plan) throws Exception {
    SparkSession spark = QuarryCli.openSpark(base, "quarry-pipeline-matrix");
    Map<String, Double> passSeconds = new LinkedHashMap<>(); // shared directory to the seconds of its pass
    Map<String, Double> buildSeconds = new LinkedHashMap<>();
    try {
      for (Planned p : plan) {
        buildSeconds.put(p.variant().id(), variant(spark, opts, p, passSeconds));
      }
    } finally {
      spark.stop();
    }
    long chunkPasses = plan.stream().map(Planned::chunksDir).distinct().count();
    long embedPasses = plan.stream().map(Planned::embeddingsDir).distinct().count();
    return new Built(buildSeconds, (int) chunkPasses, (int) embedPasses);
  }

  /**
   * One variant: the shared chunk and embed passes it needs that have not run yet, then train, build, tune and
   * evaluate; writes {@code build.json}.
   *
   * @return its build seconds: chunk + embed + train + build, a shared pass counted in full for every variant that
   *     uses it (what building that variant alone costs)
   */
  private static double variant(SparkSession spark, QuarryCli.ConfigOptions opts, Planned p,
      Map<String, Double> passSeconds) throws Exception {
    JobContext ctx = context(spark, opts, p.overrides(), List.of());
    boolean chunkShared = passSeconds.containsKey(p.chunksDir());
    if (!chunkShared) {
      passSeconds.put(p.chunksDir(), seconds(stage(ctx, new ChunkJob(), p.variant())));
    }
    boolean embedShared = passSeconds.containsKey(p.embeddingsDir());
    if (!embedShared) {
      passSeconds.put(p.embeddingsDir(), seconds(stage(ctx, new EmbedJob(), p.variant())));
    }
    double train = seconds(stage(ctx, new TrainQuantizerJob(), p.variant()));
    JobSummary built = stage(ctx, new BuildIndexJob(), p.variant());
    JobContext evaluating = context(spark, opts, p.overrides(), List.of("segments.version=" + built.get("version")));
    stage(evaluating, new TuneJob(true), p.variant());
    stage(evaluating, new EvaluateJob(), p.variant());
    double chunk = passSeconds.get(p.chunksDir());
    double embed = passSeconds.get(p.embeddingsDir());
    double total = round(chunk + embed + train + seconds(built));
    ctx.writeString(child(p.evalDir(), ReportCommand.BUILD_FILE), new JobSummary("build-time")
        .put("variant", p.variant().id()).put("seconds", total).put("chunkSeconds", chunk)
        .put("chunksShared", chunkShared).put("embedSeconds", embed).put("embeddingsShared", embedShared)
        .put("trainSeconds", train).put("buildSeconds", seconds(built)).toJson());
    return total;
  }

  /**
   * The comparison over every variant, baseline = the first: {@code quarry report}'s code
   * ({@link ReportCommand#report(Configuration, QuarryConfig, List)}) on the matrix's config.
   *
   * @return 0, or 1 when the report failed
   */
  private static int report(QuarryConfig base, Layout at, List<Planned> plan, Built built) throws Exception {
    List<String> metrics = plan.stream().map(p -> child(p.evalDir(), "metrics.json")).toList();
    if (metrics.size() < 2) {
      System.err.println("quarry pipeline --matrix: one variant, no comparison report (" + metrics.get(0) + ")");
      return 0;
    }
    List<String> args = new ArrayList<>(List.of("--out", at.report()));
    args.addAll(metrics);
    int exit;
    try {
      exit = ReportCommand.report(QuarryCli.hadoopConf(base), base, args);
    } catch (Exception e) {
      System.err.println("quarry pipeline --matrix: the report failed: " + e);
      LOG.error("matrix report failed", e);
      return 1;
    }
    if (exit == 0) {
      System.err.println("quarry pipeline --matrix: " + plan.size() + " variants (" + built.chunkPasses()
          + " chunk pass(es), " + built.embedPasses() + " embedding pass(es)); report: "
          + child(at.report(), "leaderboard.md") + " and " + child(at.report(), "leaderboard.html"));
    }
    return exit == 0 ? 0 : 1;
  }

  private static double seconds(JobSummary s) {
    return ((Number) s.get("wallSeconds")).doubleValue();
  }

  private static double round(double x) {
    return Math.round(x * 100) / 100.0;
  }

  private static JobContext context(SparkSession spark, QuarryCli.ConfigOptions opts, List<String> overrides,
      List<String> extra) throws Exception {
    List<String> all = new ArrayList<>(overrides);
    all.addAll(extra);
    QuarryConfig c = opts.load(all.toArray(String[]::new));
    return new JobContext(spark, c, ConfigLoader.toJson(c), ConfigLoader.hash(c));
  }

  private static JobSummary stage(JobContext ctx, StageJob job, MatrixAxes.Variant v) throws Exception {
    job.preflight(ctx);
    long t0 = System.nanoTime();
    LOG.info("matrix variant {}: stage {} starting", v.id(), job.name());
    JobSummary s = job.run(ctx);
    s.put("wallSeconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0).put("variant", v.id());
    System.out.println(s.toJson());
    return s;
  }

  private static String child(String parent, String name) {
    return parent.endsWith("/") ? parent + name : parent + "/" + name;
  }

  private static String key(String... parts) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (String p : parts) {
        md.update(p.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
      }
      return HexFormat.of().formatHex(md.digest()).substring(0, 12);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
