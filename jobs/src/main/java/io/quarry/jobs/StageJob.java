package io.quarry.jobs;

/**
 * One pipeline stage. Reads the previous stage's output (paths from {@code config.paths}), writes its own, and
 * returns a summary that the CLI prints and the stage writes as {@code summary.json} beside its output.
 */
public interface StageJob {
  /** The CLI subcommand name, e.g. {@code chunk}. */
  String name();

  /**
   * Runs the stage.
   *
   * @return counts and timings for the job summary
   * @throws Exception on any failure; the CLI exits non-zero with the message
   */
  JobSummary run(JobContext ctx) throws Exception;
}
