package io.quarry.jobs.build;

import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.StageJob;

/** Placeholder: being implemented. */
public final class BuildSegmentsJob implements StageJob {
  @Override
  public String name() {
    return "build";
  }

  @Override
  public JobSummary run(JobContext ctx) throws Exception {
    throw new UnsupportedOperationException("build: not implemented yet");
  }
}
