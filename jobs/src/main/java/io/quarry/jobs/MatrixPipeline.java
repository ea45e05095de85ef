package io.quarry.jobs;

import io.quarry.core.config.ConfigException;
import io.quarry.core.config.ConfigInputs;
import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.QuarryConfig;
import io.quarry.jobs.build.BuildSegmentsJob;
import io.quarry.jobs.chunk.ChunkJob;
import io.quarry.jobs.embed.EmbedJob;
import io.quarry.jobs.eval.EvaluateJob;
import io.quarry.jobs.eval.TuneJob;
import io.quarry.jobs.train.TrainQuantizerJob;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code quarry pipeline --matrix key=v1;v2 …}: an experiment as configuration. The variants are the cross product of
 * the axes' values (the first axis varies slowest); each variant is the command line's config plus its overrides.
 *
 * <p>Every variant's config and evaluation inputs are validated before any work (all problems in one list, exit 2).
 * Then, in one Spark application: the chunk stage once per distinct chunking input (input, chunking and the
 * embedding model, whose tokenizer cuts the chunks), the embed stage once per distinct chunks × embedding config, and
 * train, build, tune (when {@code tuning.qrels} is set) and evaluate per variant. Outputs:
 * {@code <paths.work>/matrix/shared/{chunks,embeddings}-<key>} (shared), {@code <paths.work>/matrix/<variant-id>/}
 * (quantizer, index, evaluation with run id = variant id) and {@code <paths.work>/matrix/report/} (the {@code quarry
 * report} leaderboard, baseline = the first variant). Variants are built with {@code segments.publish=false}: the
 * matrix never moves a {@code CURRENT}, neither the main index's nor its own.
 */
final class MatrixPipeline {
  private static final Logger LOG = LoggerFactory.getLogger(MatrixPipeline.class);

  /** Separates the values of one {@code --matrix} axis ({@code ,} occurs inside values such as index specs). */
  static final String VALUE_SEPARATOR = ";";

  /** One axis: a config key and its values. */
  record Axis(String key, List<String> values) {}

  /** One variant: its readable id and the {@code --set} overrides of its axes' values. */
  record Variant(String id, List<String> overrides) {}

  private MatrixPipeline() {}

  /**
   * Parses {@code key=v1;v2;…} arguments.
   *
   * @throws ConfigException listing every malformed argument or repeated key
   */
  static List<Axis> parse(List<String> args) {
    List<String> problems = new ArrayList<>();
    List<Axis> axes = new ArrayList<>();
    Set<String> keys = new LinkedHashSet<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      String key = eq < 0 ? "" : a.substring(0, eq).trim();
      if (key.isEmpty()) {
        problems.add("--matrix " + a + ": expected KEY=VALUE1;VALUE2;…");
        continue;
      }
      if (key.startsWith("paths.")) {
        problems.add("--matrix " + key + ": paths are set per variant by the matrix (under <paths.work>/matrix)");
        continue;
      }
      if (!keys.add(key)) {
        problems.add("--matrix " + key + ": given twice (list every value in one --matrix, separated by ';')");
        continue;
      }
      List<String> values = new ArrayList<>();
      for (String v : a.substring(eq + 1).split(VALUE_SEPARATOR, -1)) {
        v = v.trim();
        if (v.isEmpty()) {
          problems.add("--matrix " + key + ": empty value in '" + a.substring(eq + 1) + "'");
        } else if (values.contains(v)) {
          problems.add("--matrix " + key + ": value " + v + " given twice");
        } else {
          values.add(v);
        }
      }
      axes.add(new Axis(key, values));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return axes;
  }

  /**
   * The cross product of the axes, first axis slowest. A variant's id joins, per axis, the key's last segment and the
   * value, with every character other than letters, digits, {@code .} and {@code -} replaced by {@code -}, e.g.
   * {@code model-all-minilm-l6-v2-q_spec-IVF32-PQ24x8} (a file name on every filesystem; {@code ,}, {@code =} and
   * {@code :} are avoided: Hadoop and Spark give them meanings in paths).
   */
  static List<Variant> variants(List<Axis> axes) {
    List<Variant> out = new ArrayList<>(List.of(new Variant("", List.of())));
    for (Axis axis : axes) {
      String shortKey = axis.key().substring(axis.key().lastIndexOf('.') + 1);
      List<Variant> next = new ArrayList<>();
      for (Variant v : out) {
        for (String value : axis.values()) {
          String part = (shortKey + "-" + value).replaceAll("[^A-Za-z0-9.-]", "-");
          List<String> o = new ArrayList<>(v.overrides());
          o.add(axis.key() + "=" + value);
          next.add(new Variant(v.id().isEmpty() ? part : v.id() + "_" + part, o));
        }
      }
      out = next;
    }
    // sanitizing may merge two ids (e.g. values a,b and a-b): number the later ones
    Set<String> seen = new LinkedHashSet<>();
    List<Variant> unique = new ArrayList<>();
    for (Variant v : out) {
      String id = v.id();
      for (int n = 2; !seen.add(id); n++) {
        id = v.id() + "-" + n;
      }
      unique.add(new Variant(id, v.overrides()));
    }
    return unique;
  }

  /** A variant with its full overrides and where its inputs are shared. */
  private record Planned(Variant variant, List<String> overrides, String chunksDir, String embeddingsDir) {}

  /** Runs the matrix; see the class comment. */
  static int run(QuarryCli.ConfigOptions opts, List<String> matrixArgs) throws Exception {
    List<Variant> variants = variants(parse(matrixArgs));
    QuarryConfig base = opts.load();
    String root = child(base.paths().work(), "matrix");
    String shared = child(root, "shared");

    // validate every variant before any work, all problems in one list
    List<String> problems = new ArrayList<>();
    Map<String, QuarryConfig> configs = new LinkedHashMap<>();
    for (Variant v : variants) {
      try {
        QuarryConfig c = opts.loadChecked(ConfigInputs.ALL_STAGES, v.overrides().toArray(String[]::new));
        configs.put(v.id(), c);
      } catch (ConfigException e) {
        for (String p : e.violations()) {
          problems.add(v.id() + ": " + p);
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }

    List<Planned> plan = new ArrayList<>();
    for (Variant v : variants) {
      QuarryConfig c = configs.get(v.id());
      // what the chunks depend on: the input, the chunking and the model (its tokenizer cuts the windows). Chunks are
      // keyed by model id: two models are chunked twice even when their tokenizers agree (correctness first).
      String chunkKey = key(c.input().toString(), c.chunking().toString(), c.embedding().model(),
          c.embedding().modelPath());
      String embKey = key(chunkKey, c.embedding().toString());
      String chunksDir = child(shared, "chunks-" + chunkKey);
      String embDir = child(shared, "embeddings-" + embKey);
      String dir = child(root, v.id());
      List<String> o = new ArrayList<>(v.overrides());
      o.addAll(List.of("paths.work=" + dir, "paths.chunks=" + chunksDir, "paths.embeddings=" + embDir,
          "paths.quantizer=" + child(dir, "quantizer"), "paths.index=" + child(dir, "index"),
          "paths.eval=" + child(dir, "eval"), "paths.quarantine=" + child(dir, "quarantine"),
          "segments.publish=false", "evaluation.runId=" + v.id()));
      plan.add(new Planned(v, o, chunksDir, embDir));
    }

    String json = ConfigLoader.toJson(base);
    String hash = ConfigLoader.hash(base);
    SparkSession spark = QuarryCli.openSpark(base, "quarry-pipeline-matrix");
    List<String> metrics = new ArrayList<>();
    int chunkPasses = 0;
    int embedPasses = 0;
    try {
      Set<String> chunked = new LinkedHashSet<>();
      Set<String> embedded = new LinkedHashSet<>();
      for (Planned p : plan) {
        JobContext ctx = context(spark, opts, p.overrides(), List.of());
        if (chunked.add(p.chunksDir())) {
          stage(ctx, new ChunkJob(), p.variant());
          chunkPasses++;
        }
        if (embedded.add(p.embeddingsDir())) {
          stage(ctx, new EmbedJob(), p.variant());
          embedPasses++;
        }
        stage(ctx, new TrainQuantizerJob(), p.variant());
        String version = (String) stage(ctx, new BuildSegmentsJob(), p.variant()).get("version");
        JobContext evaluating = context(spark, opts, p.overrides(), List.of("segments.version=" + version));
        stage(evaluating, new TuneJob(true), p.variant());
        stage(evaluating, new EvaluateJob(), p.variant());
        metrics.add(child(child(evaluating.config().paths().evalDir(), p.variant().id()),
            "metrics.json"));
      }
    } finally {
      spark.stop();
    }

    String reportDir = child(root, "report");
    System.out.println(new JobSummary("pipeline-matrix").put("variants", variants.size())
        .put("chunkPasses", chunkPasses).put("embedPasses", embedPasses).put("report", reportDir).toJson());
    if (metrics.size() < 2) {
      System.err.println("quarry pipeline --matrix: one variant, no comparison report (" + metrics.get(0) + ")");
      return 0;
    }
    // the comparison over every variant, baseline = the first: quarry report itself
    List<String> args = new ArrayList<>();
    for (String f : opts.configFiles) {
      args.addAll(List.of("--config", f));
    }
    for (String s : opts.overrides) {
      args.addAll(List.of("--set", s));
    }
    args.addAll(List.of("--out", reportDir));
    args.addAll(metrics);
    int exit = QuarryCli.run(prepend("report", args));
    if (exit == 0) {
      System.err.println("quarry pipeline --matrix: " + variants.size() + " variants (" + chunkPasses
          + " chunk pass(es), " + embedPasses + " embedding pass(es)); report: "
          + child(reportDir, "leaderboard.md") + " and " + child(reportDir, "leaderboard.html"));
    }
    return exit == 0 ? 0 : 1;
  }

  private static String[] prepend(String first, List<String> rest) {
    List<String> all = new ArrayList<>();
    all.add(first);
    all.addAll(rest);
    return all.toArray(String[]::new);
  }

  private static JobContext context(SparkSession spark, QuarryCli.ConfigOptions opts, List<String> overrides,
      List<String> extra) throws Exception {
    List<String> all = new ArrayList<>(overrides);
    all.addAll(extra);
    QuarryConfig c = opts.load(all.toArray(String[]::new));
    return new JobContext(spark, c, ConfigLoader.toJson(c), ConfigLoader.hash(c));
  }

  private static JobSummary stage(JobContext ctx, StageJob job, Variant v) throws Exception {
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
