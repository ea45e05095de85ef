package io.quarry.jobs;

/**
 * One pipeline stage. Reads the previous stage's output (paths from {@code config.paths}), writes its own, and
 * returns a summary that the CLI prints and the stage writes as {@code summary.json} beside its output.
 */
public interface StageJob {
  /** The CLI subcommand name, e.g. {@code chunk}. */
  String name();

  /**
   * Checks what can be checked before any stage of a run starts (e.g. that a configured input path exists), so
   * a bad setting fails before any work, also in {@code pipeline}. Must not write anything. Default: nothing.
   *
   * @throws Exception naming the config key at fault
   */
  default void preflight(JobContext ctx) throws Exception {}

  /**
   * Runs the stage.
   *
   * @return counts and timings for the job summary
   * @throws Exception on any failure; the CLI exits non-zero with the message
   */
  JobSummary run(JobContext ctx) throws Exception;
}
