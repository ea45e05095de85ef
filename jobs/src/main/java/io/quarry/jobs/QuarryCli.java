package io.quarry.jobs;

import io.quarry.core.config.ConfigException;
import io.quarry.core.config.ConfigInputs;
import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.QuarryConfig;
import io.quarry.jobs.build.BuildSegmentsJob;
import io.quarry.jobs.chunk.ChunkJob;
import io.quarry.jobs.embed.EmbedJob;
import io.quarry.jobs.eval.EvaluateJob;
import io.quarry.jobs.train.TrainQuantizerJob;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Entry point of the jobs jar: {@code quarry <stage> --config conf/quarry.yaml [--set key=value ...]}.
 *
 * <p>Runs the same under {@code spark-submit --class io.quarry.jobs.QuarryCli} (master and Spark conf from
 * spark-submit) and from the quick-start launcher (master from {@code spark.master} in the config). Exit codes: 0
 * success, 1 job failure, 2 bad command line, config or input (missing, unreadable or malformed corpus, model,
 * queries, qrels; nothing was run), 3 a gate failed (evaluation).
 */
@Command(
    name = "quarry",
    mixinStandardHelpOptions = true,
    versionProvider = QuarryCli.Version.class,
    description = "Builds and evaluates compressed, sharded hybrid retrieval indexes on Spark.",
    subcommands = {
      QuarryCli.Chunk.class,
      QuarryCli.Embed.class,
      QuarryCli.Train.class,
      QuarryCli.Build.class,
      QuarryCli.Index.class,
      QuarryCli.Compact.class,
      QuarryCli.Evaluate.class,
      QuarryCli.Tune.class,
      QuarryCli.Pipeline.class,
      QuarryCli.Publish.class,
      QuarryCli.BenchEmbed.class,
      QuarryCli.ExportAnn.class,
      QuarryCli.Validate.class,
      io.quarry.jobs.train.BenchAnnCommand.class,
      io.quarry.jobs.train.BenchTrainCommand.class,
      io.quarry.jobs.train.BenchProbeCommand.class,
      io.quarry.jobs.eval.CompareCommand.class,
      io.quarry.jobs.eval.ReportCommand.class,
      io.quarry.jobs.embed.ModelsCommand.class
    })
public final class QuarryCli {
  private static final Logger LOG = LoggerFactory.getLogger(QuarryCli.class);

  /** Exit code when the command line or config is invalid. */
  public static final int EXIT_USAGE = 2;
  /**
   * Exit code of {@code build --incremental} when drift exceeded a threshold ({@code segments.driftMaxMseRatio},
   * {@code segments.driftMaxChangedShare}): nothing was written under {@code paths.index}; retrain ({@code quarry
   * train}) and build in full. The measures are in {@code <paths.work>/refresh.json}.
   */
  public static final int EXIT_RETRAIN = 4;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns its exit code (tests call this instead of {@link #main}). */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new QuarryCli());
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      if (ex instanceof ConfigException) {
        cmd.getErr().println(ex.getMessage());
        return EXIT_USAGE;
      }
      if (ex instanceof io.quarry.jobs.build.RetrainRequiredException) {
        cmd.getErr().println("quarry " + cmd.getCommandName() + ": " + ex.getMessage());
        return EXIT_RETRAIN;
      }
      cmd.getErr().println("quarry " + cmd.getCommandName() + " failed: " + ex);
      LOG.error("job failed", ex);
      return 1;
    });
    return cl.execute(args);
  }

  /** Options every stage command takes. */
  static class ConfigOptions {
    @Option(names = {"-c", "--config"}, description = "YAML config file(s), lowest precedence first "
        + "(local path or any Hadoop URI).", paramLabel = "FILE")
    List<String> configFiles = new ArrayList<>();

    @Option(names = "--set", description = "Override one config value, e.g. --set quantizer.spec=IVF256,PQ48x8 "
        + "(highest precedence).", paramLabel = "KEY=VALUE")
    List<String> overrides = new ArrayList<>();

    QuarryConfig load(String... extraOverrides) throws Exception {
      return load(c -> List.of(), extraOverrides);
    }

    /**
     * Loads the config and checks the inputs {@code stages} read ({@link InputCheck}), before any work: every
     * problem of the config and of the inputs in one {@link ConfigException} (exit {@value #EXIT_USAGE}).
     */
    QuarryConfig loadChecked(Collection<String> stages, String... extraOverrides) throws Exception {
      return loadChecked(stages, c -> List.of(), extraOverrides);
    }

    /** {@link #loadChecked(Collection, String...)} with further checks of the bound config (same list). */
    QuarryConfig loadChecked(Collection<String> stages, Function<QuarryConfig, List<String>> more,
        String... extraOverrides) throws Exception {
      return load(c -> {
        List<String> problems = new ArrayList<>(InputCheck.problems(c, hadoopConf(c), stages));
        problems.addAll(more.apply(c));
        return problems;
      }, extraOverrides);
    }

    private QuarryConfig load(Function<QuarryConfig, List<String>> checks, String... extraOverrides)
        throws Exception {
      List<ConfigLoader.Source> sources = new ArrayList<>();
      for (String f : configFiles) {
        sources.add(new ConfigLoader.Source(f, readText(f)));
      }
      List<String> all = new ArrayList<>(overrides);
      all.addAll(List.of(extraOverrides));
      return ConfigLoader.load(sources, all, checks);
    }
  }

  static String readText(String file) throws Exception {
    if (!file.contains("://")) {
      Path p = Path.of(file);
      if (!Files.isReadable(p)) {
        throw new ConfigException(List.of(file + ": config file not found or not readable"));
      }
      return Files.readString(p, StandardCharsets.UTF_8);
    }
    org.apache.hadoop.fs.Path hp = new org.apache.hadoop.fs.Path(file);
    try (var in = hp.getFileSystem(DriverHadoopConf.get()).open(hp)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (java.io.FileNotFoundException e) {
      throw new ConfigException(List.of(file + ": config file not found"));
    }
  }

  /**
   * A Hadoop configuration for reading files before Spark starts: {@link DriverHadoopConf#get()} plus the config's
   * {@code spark.conf} entries {@code spark.hadoop.*} (prefix removed), as Spark would set them.
   */
  static Configuration hadoopConf(QuarryConfig config) {
    Configuration conf = DriverHadoopConf.get();
    config.spark().conf().forEach((k, v) -> {
      if (k.startsWith("spark.hadoop.")) {
        conf.set(k.substring("spark.hadoop.".length()), v);
      }
    });
    return conf;
  }

  /** Opens (or joins) the Spark session: spark-submit's settings win; the config fills in what is unset. */
  public static SparkSession openSpark(QuarryConfig config, String appName) {
    SparkConf conf = new SparkConf();
    if (!conf.contains("spark.master")) {
      conf.setMaster(config.spark().master());
    }
    for (Map.Entry<String, String> e : config.spark().conf().entrySet()) {
      if (!conf.contains(e.getKey())) {
        conf.set(e.getKey(), e.getValue());
      }
    }
    if (!conf.contains("spark.app.name")) {
      conf.setAppName(appName);
    }
    return SparkSession.builder().config(conf).getOrCreate();
  }

  /** Runs stages in order in one Spark session, printing and logging each summary. */
  static int runStages(ConfigOptions opts, List<StageJob> stages) throws Exception {
    return runStages(opts, List.of(), stages);
  }

  /** {@link #runStages(ConfigOptions, List)} with extra {@code --set} overrides (highest precedence). */
  static int runStages(ConfigOptions opts, List<String> extra, List<StageJob> stages) throws Exception {
    QuarryConfig config = opts.loadChecked(stages.stream().map(StageJob::name).toList(),
        extra.toArray(String[]::new));
    String json = ConfigLoader.toJson(config);
    String hash = ConfigLoader.hash(config);
    String app = "quarry-" + (stages.size() == 1 ? stages.get(0).name() : "pipeline");
    SparkSession spark = openSpark(config, app);
    try {
      runAll(new JobContext(spark, config, json, hash), stages);
    } finally {
      spark.stop();
    }
    return 0;
  }

  /** Runs every stage's {@link StageJob#preflight}, then the stages in order, printing and logging each summary. */
  public static void runAll(JobContext ctx, List<StageJob> stages) throws Exception {
    for (StageJob stage : stages) {
      stage.preflight(ctx);
    }
    for (StageJob stage : stages) {
      long t0 = System.nanoTime();
      LOG.info("stage {} starting (config {})", stage.name(), ctx.configHash().substring(0, 12));
      JobSummary summary = stage.run(ctx);
      summary.put("wallSeconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
      System.out.println(summary.toJson());
    }
  }

  private static JobSummary runStage(JobContext ctx, StageJob stage, String hash) throws Exception {
    long t0 = System.nanoTime();
    LOG.info("stage {} starting (config {})", stage.name(), hash.substring(0, 12));
    JobSummary s = stage.run(ctx);
    s.put("wallSeconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
    System.out.println(s.toJson());
    return s;
  }

  abstract static class StageCommand implements Callable<Integer> {
    @CommandLine.Mixin ConfigOptions opts = new ConfigOptions();

    abstract List<StageJob> stages();

    @Override
    public Integer call() throws Exception {
      return runStages(opts, stages());
    }
  }

  @Command(name = "chunk", description = "Read the corpus and cut documents into token windows (chunks).")
  static final class Chunk extends StageCommand {
    @Override
    List<StageJob> stages() {
      return List.of(new ChunkJob());
    }
  }

  @Command(name = "embed", description = "Embed chunks with ONNX Runtime inside the executors.")
  static final class Embed extends StageCommand {
    @Override
    List<StageJob> stages() {
      return List.of(new EmbedJob());
    }
  }

  @Command(name = "train", description = "Train the quantizer (OPQ, IVF, residual PQ) with Spark MLlib k-means.")
  static final class Train extends StageCommand {
    @Override
    List<StageJob> stages() {
      return List.of(new TrainQuantizerJob());
    }
  }

  /** The options of an incremental build, shared by {@code build} and {@code index}. */
  static final class IncrementalOptions {
    @Option(names = "--incremental", description = "Keep the base version's quantizer and shards; write delta "
        + "shards for added/changed documents and tombstones for deleted ones (segments.incremental=true).")
    boolean incremental;

    @Option(names = "--base", paramLabel = "VERSION", description = "Base version of --incremental (segments.base; "
        + "default: the version CURRENT names).")
    String base;

    /** The {@code --set} overrides these options stand for. */
    List<String> overrides() {
      List<String> extra = new ArrayList<>();
      if (incremental) {
        extra.add("segments.incremental=true");
      }
      if (base != null) {
        extra.add("segments.base=" + base);
      }
      return extra;
    }
  }

  @Command(name = "build", description = "Encode vectors and write sharded, versioned index segments; with "
      + "--incremental, a new version from a base version with its quantizer frozen (exit 4 when drift requires "
      + "retraining).")
  static final class Build implements Callable<Integer> {
    @CommandLine.Mixin ConfigOptions opts = new ConfigOptions();
    @CommandLine.Mixin IncrementalOptions inc = new IncrementalOptions();

    @Option(names = "--no-fail-on-drift", description = "With --incremental: exit 0 instead of 4 when drift requires "
        + "retraining (the decision, path=retrain, is in <paths.work>/refresh.json): for schedulers that branch on "
        + "it, such as the quarry_refresh_index DAG.")
    boolean noFailOnDrift;

    @Override
    public Integer call() throws Exception {
      try {
        return runStages(opts, inc.overrides(), List.of(new BuildSegmentsJob()));
      } catch (io.quarry.jobs.build.RetrainRequiredException e) {
        if (!noFailOnDrift) {
          throw e;
        }
        System.err.println("quarry build: " + e.getMessage() + " (recorded in refresh.json; exit 0: "
            + "--no-fail-on-drift)");
        return 0;
      }
    }
  }

  @Command(name = "index", description = "Chunk, embed, train and build one index version in one Spark application "
      + "(the four stage commands without their four JVM and Spark starts). With --incremental: chunk and embed "
      + "reusing the previous outputs (chunking.reuseFrom and embedding.reuseFrom default to auto), then an "
      + "incremental build from the base with its quantizer frozen; when drift requires retraining, train and build "
      + "in full instead (refreshPath=retrain in the summary). Published as build publishes (segments.publish). No "
      + "tune or evaluate: see pipeline.")
  static final class Index implements Callable<Integer> {
    @CommandLine.Mixin ConfigOptions opts = new ConfigOptions();
    @CommandLine.Mixin IncrementalOptions inc = new IncrementalOptions();

    @Override
    public Integer call() throws Exception {
      List<String> extra = inc.overrides();
      QuarryConfig config = opts.loadChecked(InputCheck.COMMAND_STAGES.get("index"), extra.toArray(String[]::new));
      if (inc.incremental) {
        if (config.chunking().reuseFrom().isEmpty()) {
          extra.add("chunking.reuseFrom=auto");
        }
        if (config.embedding().reuseFrom().isEmpty()) {
          extra.add("embedding.reuseFrom=auto");
        }
        config = opts.load(extra.toArray(String[]::new));
      }
      String json = ConfigLoader.toJson(config);
      String hash = ConfigLoader.hash(config);
      SparkSession spark = openSpark(config, "quarry-index");
      try {
        buildVersion(spark, opts, extra, json, hash);
      } finally {
        spark.stop();
      }
      return 0;
    }
  }

  /**
   * Chunk, embed, train (not with {@code segments.incremental}) and build in one session, preflights first; when an
   * incremental build finds that drift requires retraining, trains and builds in full instead. Prints each stage's
   * summary.
   *
   * @param extra {@code --set} overrides on top of the command line's
   * @return the build stage's summary ({@code version}; {@code refreshPath=retrain} after the fallback)
   */
  static JobSummary buildVersion(SparkSession spark, ConfigOptions opts, List<String> extra, String json,
      String hash) throws Exception {
    JobContext ctx = new JobContext(spark, opts.load(extra.toArray(String[]::new)), json, hash);
    // an incremental build keeps the base's quantizer: no training, unless drift sends it down the full path
    List<StageJob> stages = ctx.config().segments().incremental()
        ? List.of(new ChunkJob(), new EmbedJob(), new BuildSegmentsJob())
        : List.of(new ChunkJob(), new EmbedJob(), new TrainQuantizerJob(), new BuildSegmentsJob());
    for (StageJob stage : stages) {
      stage.preflight(ctx);
    }
    JobSummary built = null;
    for (StageJob stage : stages) {
      try {
        built = runStage(ctx, stage, hash);
      } catch (io.quarry.jobs.build.RetrainRequiredException e) {
        LOG.warn("{}; retraining the quantizer and building in full", e.getMessage());
        List<String> full = new ArrayList<>(extra);
        full.add("segments.incremental=false");
        JobContext fullCtx = new JobContext(spark, opts.load(full.toArray(String[]::new)), json, hash);
        runStage(fullCtx, new TrainQuantizerJob(), hash);
        built = runStage(fullCtx, new BuildSegmentsJob(), hash);
        built.put("refreshPath", "retrain").put("retrainReasons", e.reasons());
      }
    }
    return built;
  }

  @Command(name = "compact", description = "Rewrite every shard of a version (--base, default CURRENT) from the "
      + "current chunks and embeddings with its frozen quantizer: a new version without tombstones.")
  static final class Compact implements Callable<Integer> {
    @CommandLine.Mixin ConfigOptions opts = new ConfigOptions();

    @Option(names = "--base", paramLabel = "VERSION", description = "Version to compact (default: CURRENT).")
    String base;

    @Override
    public Integer call() throws Exception {
      List<String> extra = new ArrayList<>(List.of("segments.incremental=true", "segments.compact=true"));
      if (base != null) {
        extra.add("segments.base=" + base);
      }
      return runStages(opts, extra, List.of(new BuildSegmentsJob()));
    }
  }

  @Command(name = "evaluate", description = "Search the labeled queries and write metrics, runs and a report.")
  static final class Evaluate extends StageCommand {
    @Override
    List<StageJob> stages() {
      return List.of(new EvaluateJob());
    }
  }

  @Command(name = "tune", description = "Choose the hybrid fusion, candidate depth and nprobe on training qrels "
      + "(tuning.qrels) and write them into the index version's manifest.")
  static final class Tune extends StageCommand {
    @Option(names = "--if-configured", description = "Skip (exit 0, with a note) when tuning.qrels is not set, "
        + "instead of failing: for schedulers that run the same task for every config.")
    boolean ifConfigured;

    @Override
    List<StageJob> stages() {
      return List.of(new io.quarry.jobs.eval.TuneJob(ifConfigured));
    }
  }

  @Command(name = "pipeline", description = "Run chunk, embed, train, build, tune (when tuning.qrels is set) and "
      + "evaluate in order, then (with "
      + "segments.publish) point CURRENT at the new version: only after the evaluation succeeded and, with --baseline, "
      + "the gate passed (exit 3 otherwise, CURRENT unchanged).")
  static final class Pipeline implements Callable<Integer> {
    @CommandLine.Mixin ConfigOptions opts = new ConfigOptions();

    @Option(names = "--baseline", paramLabel = "RUN_ID|METRICS_JSON", description = "Gate the new evaluation against "
        + "this one as quarry compare does (evaluation.gate); CURRENT moves only when it passes.")
    String baseline;

    @Option(names = "--matrix", paramLabel = "KEY=V1;V2", description = "An experiment: build, evaluate and compare "
        + "every variant of the cross product of the --matrix axes (repeatable; values separated by ';'), e.g. "
        + "--matrix 'quantizer.spec=IVF16,PQ24x8;IVF32,PQ48x8'. Chunks and embeddings are shared where their inputs "
        + "agree; outputs under <paths.work>/matrix/<variant>/, the report under <paths.work>/matrix/report/; "
        + "CURRENT is never moved. A 'matrix' section of the config file gives axes too (a flag replaces its "
        + "key's).")
    List<String> matrix = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
      if (!matrix.isEmpty() || MatrixPipeline.configured(opts)) {
        if (baseline != null) {
          throw new ConfigException(List.of("--baseline: not with --matrix (the matrix compares its variants with "
              + "the first one and never publishes)"));
        }
        return MatrixPipeline.run(opts, matrix);
      }
      // Every input and the baseline are checked before any work, and the baseline is held in memory.
      io.quarry.core.eval.EvalReport[] base = new io.quarry.core.eval.EvalReport[1];
      QuarryConfig config = opts.loadChecked(ConfigInputs.ALL_STAGES, c -> {
        if (baseline != null) {
          try {
            base[0] = io.quarry.jobs.eval.CompareCommand.readBaseline(hadoopConf(c), c, baseline);
          } catch (Exception e) {
            return List.of("--baseline: " + e.getMessage());
          }
        }
        return List.of();
      });
      String json = ConfigLoader.toJson(config);
      String hash = ConfigLoader.hash(config);
      SparkSession spark = openSpark(config, "quarry-pipeline");
      try {
        // build without publishing (as the Airflow DAG does); CURRENT moves at the end, after evaluation and gate
        JobSummary built = buildVersion(spark, opts, List.of("segments.publish=false"), json, hash);
        String version = (String) built.get("version");
        QuarryConfig evaluating = opts.load("segments.publish=false", "segments.version=" + version);
        // tune the new version on the training qrels (skipped without tuning.qrels) before it is evaluated
        JobSummary tuned = new io.quarry.jobs.eval.TuneJob(true).run(new JobContext(spark, evaluating, json, hash));
        System.out.println(tuned.toJson());
        return io.quarry.jobs.eval.GatedPublish.run(new JobContext(spark, evaluating, json, hash), version,
            config.segments().publish(), base[0]);
      } finally {
        spark.stop();
      }
    }
  }

  @Command(name = "bench-embed", description = "Embed throughput of the embed job vs raw ONNX Runtime (same model, "
      + "batch size, threads), on the chunks of the chunk stage; see docs/benchmarks.md.")
  static final class BenchEmbed extends StageCommand {
    @Option(names = "--limit", description = "Chunks to embed: the first N by chunk id (0 = all).",
        defaultValue = "0", paramLabel = "N")
    int limit;

    @Override
    List<StageJob> stages() {
      return List.of(new io.quarry.jobs.embed.EmbedBenchmark(limit));
    }
  }

  @Command(name = "export-ann", description = "Write the embeddings and the embedded evaluation queries as a TEXMEX "
      + "ANN data set (base/query .fvecs, exact inner-product ground truth .ivecs) for bench-ann and FAISS.")
  static final class ExportAnn extends StageCommand {
    @Option(names = "--out", required = true, description = "Local output directory.", paramLabel = "DIR")
    java.nio.file.Path out;

    @Option(names = "--name", defaultValue = "quarry", description = "File name prefix (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--k", defaultValue = "100", description = "Ground-truth neighbours per query (default: "
        + "${DEFAULT-VALUE}).")
    int k;

    @Override
    List<StageJob> stages() {
      return List.of(new io.quarry.jobs.eval.ExportAnnJob(out, name, k));
    }
  }

  @Command(name = "publish", description = "Validate the index version segments.version and point CURRENT at it.")
  static final class Publish extends StageCommand {
    @Override
    List<StageJob> stages() {
      return List.of(new io.quarry.jobs.build.PublishJob());
    }
  }

  @Command(name = "validate-config", description = "Load and validate the config, check every input it names "
      + "(corpus, custom model, queries, qrels, tuning qrels, cross-encoder, chunking.reuseFrom and "
      + "embedding.reuseFrom directories, the base version of an incremental build; local or Hadoop URIs) and parse "
      + "the queries and qrels, print the config resolved, run nothing. Every problem is listed; exit 2 if there is "
      + "one.")
  static final class Validate implements Callable<Integer> {
    @CommandLine.Mixin ConfigOptions opts = new ConfigOptions();

    @Option(names = "--stage", paramLabel = "COMMAND", description = "Check only the inputs this command reads "
        + "(repeatable; chunk, embed, train, build, compact, index, tune, evaluate, publish, pipeline). Default: "
        + "every input the config names.")
    List<String> stages = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
      java.util.Set<String> checked = new java.util.TreeSet<>();
      for (String st : stages) {
        List<String> of = InputCheck.COMMAND_STAGES.get(st);
        if (of == null) {
          throw new ConfigException(List.of("--stage: unknown command '" + st + "' (one of "
              + new java.util.TreeSet<>(InputCheck.COMMAND_STAGES.keySet()) + ")"));
        }
        checked.addAll(of);
      }
      QuarryConfig config = opts.loadChecked(stages.isEmpty() ? ConfigInputs.ALL_STAGES : checked);
      if (MatrixPipeline.configured(opts)) { // every variant of the config's matrix, as pipeline checks them
        MatrixPipeline.plan(opts, MatrixPipeline.variants(MatrixPipeline.axes(opts, List.of())),
            MatrixPipeline.Layout.of(config), hadoopConf(config));
      }
      System.out.println(ConfigLoader.toJson(config));
      return 0;
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = QuarryCli.class.getPackage().getImplementationVersion();
      return new String[] {"quarry " + (v == null ? "dev" : v)};
    }
  }
}
