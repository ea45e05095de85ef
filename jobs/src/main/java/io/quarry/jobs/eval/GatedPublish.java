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
 */
public final class GatedPublish {
  private static final Logger LOG = LoggerFactory.getLogger(GatedPublish.class);

  private GatedPublish() {}

  /**
   * @param evalCtx context whose config names the built version ({@code segments.version}) and the user's
   *     evaluation settings
   * @param version the built version
   * @param publish whether to move {@code CURRENT} once evaluation and gate pass (the user's {@code segments.publish})
   * @param baseline the evaluation to gate against (read before any work), or null for no gate
   * @return 0 when published (or publishing is off), {@value CompareCommand#EXIT_GATE} when the gate failed
   * @throws Exception from the evaluation (the version stays unpublished)
   */
  public static int run(JobContext evalCtx, String version, boolean publish, EvalReport baseline) throws Exception {
    QuarryConfig c = evalCtx.config();
    long t0 = System.nanoTime();
    JobSummary eval = new EvaluateJob().run(evalCtx);
    eval.put("wallSeconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
    System.out.println(eval.toJson());
    if (baseline != null) {
      String cur = EvaluateJob.child(EvaluateJob.child(c.paths().evalDir(), c.evaluation().runId()), "metrics.json");
      int rc = CompareCommand.gate(evalCtx.hadoopConf(), c.evaluation(), baseline, cur, null, c.evaluation().gate(),
          null);
      if (rc != 0) {
        System.err.println("quarry pipeline: gate failed against baseline " + baseline.runId() + ": CURRENT not moved;"
            + " version " + version + " stays unpublished (quarry publish --set segments.version=" + version
            + " publishes it anyway)");
        return rc;
      }
    }
    if (publish) {
      PublishedIndex.publish(evalCtx, version);
      LOG.info("pipeline: published version {} (evaluation{} passed)", version, baseline != null ? " and gate" : "");
      System.out.println(new JobSummary("publish").put("version", version)
          .put("indexDir", c.paths().indexDir()).toJson());
    }
    return 0;
  }
}
