package io.quarry.jobs.eval;

import io.quarry.jobs.JobContext;
import io.quarry.jobs.StaleTemp;
import java.io.IOException;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An evaluation's output directory {@code <paths.evalDir>/<runId>}: written complete in a hidden temporary directory
 * beside it, moved into place by {@link #replaceAtomically}, and a killed run's leftovers removed by the next run of
 * the same run id ({@link #cleanStale}).
 */
final class EvalOutputDir {
  private static final Logger LOG = LoggerFactory.getLogger(EvalOutputDir.class);

  private EvalOutputDir() {}

  /**
   * Removes what a killed evaluation of {@code runId} left beside its output: every {@code .<runId>.tmp-*}
   * directory, and every {@code .<runId>.old-*} ({@link #replaceAtomically}'s previous output), which is first moved
   * back to {@code <runId>} when that is missing (killed between the two renames). Only this run id's leftovers,
   * and only those of runs that are no longer running ({@link StaleTemp#isStale}: their process gone
   * from this host, or older than a day): a concurrent evaluation's live temporary directory is kept.
   *
   * @throws IOException when the evaluation directory cannot be listed or a leftover not removed
   */
  static void cleanStale(JobContext ctx, String evalDir, String runId) throws IOException {
    cleanStale(ctx, evalDir, runId, System.currentTimeMillis());
  }

  /** {@link #cleanStale(JobContext, String, String)} for a run that started at {@code runStart} (epoch millis). */
  static void cleanStale(JobContext ctx, String evalDir, String runId, long runStart) throws IOException {
    FileSystem fs = ctx.fs(evalDir);
    Path dir = new Path(evalDir);
    Path out = new Path(dir, runId);
    for (String kind : List.of("tmp", "old")) {
      FileStatus[] found = fs.globStatus(new Path(dir,
          "." + runId + "." + kind + "-*"));
      if (found == null) {
        continue;
      }
      // newest first: when the output is missing, the newest previous output is the one to put back
      java.util.Arrays.sort(found, java.util.Comparator.comparingLong(
          FileStatus::getModificationTime).reversed());
      for (FileStatus f : found) {
        if (!StaleTemp.isStale(f.getPath().getName(), "." + runId + "." + kind + "-", runStart)) {
          continue; // a live run's
        }
        if (kind.equals("old") && !fs.exists(out) && fs.rename(f.getPath(), out)) {
          LOG.warn("evaluate: {} was missing (a run was killed while replacing it): restored from {}", out,
              f.getPath());
          continue;
        }
        fs.delete(f.getPath(), true);
        LOG.info("evaluate: deleted {} left by a killed run of {}", f.getPath(), runId);
      }
    }
  }

  /**
   * Moves the complete directory {@code tmp} to {@code out}: the previous {@code out}, if any, is first renamed
   * aside, then {@code tmp} renamed into place, then the previous one deleted. A failed rename puts the previous
   * one back. Renames are atomic on HDFS and local filesystems; on S3 they are copies, so a reader may briefly see
   * no {@code out} but never a partial one.
   *
   * @throws IOException when a rename fails (the previous output is restored)
   */
  static void replaceAtomically(JobContext ctx, String tmp, String out) throws IOException {
    FileSystem fs = ctx.fs(out);
    Path o = new Path(out);
    Path old = new Path(o.getParent(),
        "." + o.getName() + ".old-" + StaleTemp.suffix());
    boolean hadOld = fs.exists(o);
    if (hadOld && !fs.rename(o, old)) {
      throw new IOException("cannot move the previous evaluation " + out + " aside to " + old);
    }
    if (!fs.rename(new Path(tmp), o)) {
      if (hadOld) {
        fs.rename(old, o);
      }
      throw new IOException("cannot move the new evaluation " + tmp + " to " + out + " (previous one kept)");
    }
    if (hadOld) {
      fs.delete(old, true);
    }
  }
}
