package io.quarry.jobs.eval;

import io.quarry.core.config.QuarryConfig;
import io.quarry.core.eval.EvalReport;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.build.PublishedIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of {@code quarry pipeline}, in the order the Airflow build DAG uses: evaluate the freshly built (not yet
 * published) index version, gate it against a baseline evaluation when one is given ({@code quarry compare}), and
 * only then point {@code CURRENT} at it (when {@code segments.publish}). A failed evaluation throws and a failed gate
 * returns {@value CompareCommand#EXIT_GATE}; either way {@code CURRENT} still names the previous version.
 *
 * <p>The new version is evaluated under its own run id, {@code <evaluation.runId>-<version>}; only when it passes (or
 * there is no gate) is that evaluation moved to {@code <paths.eval>/<evaluation.runId>} (after {@code CURRENT} moved).
 * So {@code eval/latest}, and {@code --baseline latest}, keep meaning the last version that passed (the published one
 * with {@code segments.publish}), and a rejected version's evaluation, with its {@code comparison.md}, is kept
 * under its own run id and named in the output.
 */
public final class GatedPublish {
  private static final Logger LOG = LoggerFactory.getLogger(GatedPublish.class);

  private GatedPublish() {}

  /** The run id a new version is evaluated under until it passes the gate: {@code <runId>-<version>}. */
  public static String gateRunId(String runId, String version) {
    return runId + "-" + version;
  }

  /**
   * @param evalCtx context whose config names the built version ({@code segments.version}) and the user's
   *     evaluation settings
   * @param version the built version
   * @param publish whether to move {@code CURRENT} once evaluation and gate pass (the user's {@code segments.publish})
   * @param baseline the evaluation to gate against (read before any work), or null for no gate
   * @return 0 when published (or publishing is off), {@value CompareCommand#EXIT_GATE} when the gate failed
   * @throws Exception from the evaluation (the version stays unpublished), or when the passed evaluation cannot be
   *     moved to its run id (the version is published; the evaluation stays under its gate run id)
   */
  public static int run(JobContext evalCtx, String version, boolean publish, EvalReport baseline) throws Exception {
    QuarryConfig c = evalCtx.config();
    String runId = c.evaluation().runId();
    String gateRunId = gateRunId(runId, version);
    String gateDir = EvaluateJob.child(c.paths().evalDir(), gateRunId);
    String finalDir = EvaluateJob.child(c.paths().evalDir(), runId);
    long t0 = System.nanoTime();
    JobSummary eval = new EvaluateJob().run(evalCtx.with("evaluation.runId=" + gateRunId));
    eval.put("wallSeconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
    System.out.println(eval.toJson());
    if (baseline != null) {
      int rc = CompareCommand.gate(evalCtx.hadoopConf(), c.evaluation(), baseline,
          EvaluateJob.child(gateDir, "metrics.json"), null, c.evaluation().gate(), null);
      System.out.println(new JobSummary("gate").put("baseline", baseline.runId()).put("passed", rc == 0)
          .put("version", version).put("evaluation", rc == 0 ? finalDir : gateDir).toJson());
      if (rc != 0) {
        LOG.warn("pipeline: gate failed against baseline {}; version {} unpublished, its evaluation kept at {}",
            baseline.runId(), version, gateDir);
        System.err.println("quarry pipeline: gate failed against baseline " + baseline.runId() + ": CURRENT not moved;"
            + " version " + version + " stays unpublished (quarry publish --set segments.version=" + version
            + " publishes it anyway); its evaluation is kept at " + gateDir + " (run id " + gateRunId + "), "
            + finalDir + " is unchanged");
        return rc;
      }
    }
    if (publish) {
      PublishedIndex.publish(evalCtx, version);
      LOG.info("pipeline: published version {} (evaluation{} passed)", version, baseline != null ? " and gate" : "");
      System.out.println(new JobSummary("publish").put("version", version)
          .put("indexDir", c.paths().indexDir()).toJson());
    }
    EvalOutputDir.replaceAtomically(evalCtx, gateDir, finalDir);
    LOG.info("pipeline: evaluation of version {} moved to {}", version, finalDir);
    System.out.println("Evaluation report (moved from " + gateDir + "): " + EvaluateJob.child(finalDir, "report.md")
        + " and " + EvaluateJob.child(finalDir, "report.html"));
    return 0;
  }
}
