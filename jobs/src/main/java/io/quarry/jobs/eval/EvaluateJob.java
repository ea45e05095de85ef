package io.quarry.jobs.eval;

import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.StageJob;

/** Placeholder: being implemented. */
public final class EvaluateJob implements StageJob {
  @Override
  public String name() {
    return "evaluate";
  }

  @Override
  public JobSummary run(JobContext ctx) throws Exception {
    throw new UnsupportedOperationException("evaluate: not implemented yet");
  }
}
