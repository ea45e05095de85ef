package io.quarry.jobs.chunk;

import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.StageJob;

/** Placeholder: being implemented. */
public final class ChunkJob implements StageJob {
  @Override
  public String name() {
    return "chunk";
  }

  @Override
  public JobSummary run(JobContext ctx) throws Exception {
    throw new UnsupportedOperationException("chunk: not implemented yet");
  }
}
