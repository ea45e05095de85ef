package io.quarry.jobs;

import io.quarry.core.config.ConfigException;
import io.quarry.core.config.ConfigInputs;
import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.QuarryConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "pipeline", mixinStandardHelpOptions = true,
    description = "Run chunk, embed, train, build, tune (when tuning.qrels is set) and "
    + "evaluate in order, then (with "
    + "segments.publish) point CURRENT at the new version: only after the evaluation succeeded and, with --baseline, "
    + "the gate passed (exit 3 otherwise, CURRENT unchanged).")
final class PipelineCommand implements Callable<Integer> {
  @CommandLine.Mixin QuarryCli.ConfigOptions opts = new QuarryCli.ConfigOptions();

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
    if (!matrix.isEmpty() || MatrixAxes.configured(opts)) {
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
          base[0] = io.quarry.jobs.eval.CompareCommand.readBaseline(QuarryCli.hadoopConf(c), c, baseline);
        } catch (Exception e) {
          return List.of("--baseline: " + e.getMessage());
        }
      }
      return List.of();
    });
    String json = ConfigLoader.toJson(config);
    String hash = ConfigLoader.hash(config);
    SparkSession spark = QuarryCli.openSpark(config, "quarry-pipeline");
    try {
      // build without publishing (as the Airflow DAG does); CURRENT moves at the end, after evaluation and gate
      JobSummary built = BuildCommands.buildVersion(spark, opts, List.of("segments.publish=false"), json, hash);
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
