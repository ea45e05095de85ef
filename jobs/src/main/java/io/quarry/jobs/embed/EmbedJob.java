package io.quarry.jobs.embed;

import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.StageJob;

/** Placeholder: being implemented. */
public final class EmbedJob implements StageJob {
  @Override
  public String name() {
    return "embed";
  }

  @Override
  public JobSummary run(JobContext ctx) throws Exception {
    throw new UnsupportedOperationException("embed: not implemented yet");
  }
}
