package io.quarry.jobs.train;

import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.StageJob;

/** Placeholder: being implemented. */
public final class TrainQuantizerJob implements StageJob {
  @Override
  public String name() {
    return "train";
  }

  @Override
  public JobSummary run(JobContext ctx) throws Exception {
    throw new UnsupportedOperationException("train: not implemented yet");
  }
}
