package io.quarry.jobs;

import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.QuarryConfig;
import io.quarry.jobs.build.BuildIndexJob;
import io.quarry.jobs.chunk.ChunkJob;
import io.quarry.jobs.embed.EmbedJob;
import io.quarry.jobs.train.TrainQuantizerJob;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The subcommands that write an index version: {@code build} (full or {@code --incremental}), {@code index} (chunk,
 * embed, train and build in one Spark application, {@link #buildVersion}) and {@code compact}.
 */
final class BuildCommands {
  private static final Logger LOG = LoggerFactory.getLogger(BuildCommands.class);

  private BuildCommands() {}

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

  @Command(name = "build", mixinStandardHelpOptions = true,
      description = "Encode vectors and write sharded, versioned index segments; with "
      + "--incremental, a new version from a base version with its quantizer frozen (exit 4 when drift requires "
      + "retraining).")
  static final class Build implements Callable<Integer> {
    @CommandLine.Mixin QuarryCli.ConfigOptions opts = new QuarryCli.ConfigOptions();
    @CommandLine.Mixin IncrementalOptions inc = new IncrementalOptions();

    @Option(names = "--no-fail-on-drift", description = "With --incremental: exit 0 instead of 4 when drift requires "
        + "retraining (the decision, path=retrain, is in <paths.work>/refresh.json): for schedulers that branch on "
        + "it, such as the quarry_refresh_index DAG.")
    boolean noFailOnDrift;

    @Override
    public Integer call() throws Exception {
      try {
        return QuarryCli.runStages(opts, inc.overrides(), List.of(new BuildIndexJob()));
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

  @Command(name = "index", mixinStandardHelpOptions = true,
      description = "Chunk, embed, train and build one index version in one Spark application "
      + "(the four stage commands without their four JVM and Spark starts). With --incremental: chunk and embed "
      + "reusing the previous outputs (chunking.reuseFrom and embedding.reuseFrom default to auto), then an "
      + "incremental build from the base with its quantizer frozen; when drift requires retraining, train and build "
      + "in full instead (refreshPath=retrain in the summary). Published as build publishes (segments.publish). No "
      + "tune or evaluate: see pipeline.")
  static final class Index implements Callable<Integer> {
    @CommandLine.Mixin QuarryCli.ConfigOptions opts = new QuarryCli.ConfigOptions();
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
      SparkSession spark = QuarryCli.openSpark(config, "quarry-index");
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
  static JobSummary buildVersion(SparkSession spark, QuarryCli.ConfigOptions opts, List<String> extra, String json,
      String hash) throws Exception {
    JobContext ctx = new JobContext(spark, opts.load(extra.toArray(String[]::new)), json, hash);
    // an incremental build keeps the base's quantizer: no training, unless drift sends it down the full path
    List<StageJob> stages = ctx.config().segments().incremental()
        ? List.of(new ChunkJob(), new EmbedJob(), new BuildIndexJob())
        : List.of(new ChunkJob(), new EmbedJob(), new TrainQuantizerJob(), new BuildIndexJob());
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
        built = runStage(fullCtx, new BuildIndexJob(), hash);
        built.put("refreshPath", "retrain").put("retrainReasons", e.reasons());
      }
    }
    return built;
  }

  @Command(name = "compact", mixinStandardHelpOptions = true,
      description = "Rewrite every shard of a version (--base, default CURRENT) from the "
      + "current chunks and embeddings with its frozen quantizer: a new version without tombstones.")
  static final class Compact implements Callable<Integer> {
    @CommandLine.Mixin QuarryCli.ConfigOptions opts = new QuarryCli.ConfigOptions();

    @Option(names = "--base", paramLabel = "VERSION", description = "Version to compact (default: CURRENT).")
    String base;

    @Override
    public Integer call() throws Exception {
      List<String> extra = new ArrayList<>(List.of("segments.incremental=true", "segments.compact=true"));
      if (base != null) {
        extra.add("segments.base=" + base);
      }
      return QuarryCli.runStages(opts, extra, List.of(new BuildIndexJob()));
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
}
