package io.quarry.jobs;

import io.quarry.core.config.ConfigException;
import io.quarry.core.config.ConfigInputs;
import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.QuarryConfig;
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
      StageCommand.Chunk.class,
      StageCommand.Embed.class,
      StageCommand.Train.class,
      BuildCommands.Build.class,
      BuildCommands.Index.class,
      BuildCommands.Compact.class,
      StageCommand.Evaluate.class,
      StageCommand.Tune.class,
      PipelineCommand.class,
      StageCommand.Publish.class,
      StageCommand.BenchEmbed.class,
      StageCommand.ExportAnn.class,
      QuarryCli.Validate.class,
      io.quarry.jobs.train.BenchAnnCommand.class,
      io.quarry.jobs.train.BenchTrainCommand.class,
      io.quarry.jobs.train.BenchProbeCommand.class,
      BenchBuildCommand.class,
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

  /**
   * Runs every stage's {@link StageJob#preflight}, then the stages in order, printing and logging each summary.
   *
   * @return the stages' summaries in order, each with its {@code wallSeconds}
   */
  public static List<JobSummary> runAll(JobContext ctx, List<StageJob> stages) throws Exception {
    for (StageJob stage : stages) {
      stage.preflight(ctx);
    }
    List<JobSummary> summaries = new ArrayList<>();
    for (StageJob stage : stages) {
      long t0 = System.nanoTime();
      LOG.info("stage {} starting (config {})", stage.name(), ctx.configHash().substring(0, 12));
      JobSummary summary = stage.run(ctx);
      summary.put("wallSeconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
      System.out.println(summary.toJson());
      summaries.add(summary);
    }
    return summaries;
  }

  @Command(name = "validate-config", mixinStandardHelpOptions = true,
      description = "Load and validate the config, check every input it names "
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
      if (MatrixAxes.configured(opts)) { // every variant of the config's matrix, as pipeline checks them
        MatrixPipeline.plan(opts, MatrixAxes.variants(MatrixAxes.axes(opts, List.of())),
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
