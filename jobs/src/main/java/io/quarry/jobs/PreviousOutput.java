package io.quarry.jobs;

import java.io.FileNotFoundException;
import java.io.IOException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The previous output a stage reuses rows from ({@code chunking.reuseFrom}, {@code embedding.reuseFrom}), resolved
 * before any work: {@code ""} = none, {@code auto} = the stage's own output directory if it exists (first run:
 * none), else a directory that must exist. When it is the stage's own output, the new output is written to
 * {@link #staging} and {@link #swap swapped in} once complete, as the previous rows are read while the new ones are
 * written.
 *
 * @param dir the previous dataset's directory, or null for none
 * @param inPlace whether {@code dir} is the stage's own output directory
 * @param note why there is none, or {@code ""}
 */
public record PreviousOutput(String dir, boolean inPlace, String note) {
  /**
   * Resolves a {@code reuseFrom} value.
   *
   * @param key the config key, for messages (e.g. {@code chunking.reuseFrom})
   * @param from its value
   * @param out the stage's output directory
   * @param what what a previous output is, for messages (e.g. {@code a previous chunks directory})
   * @throws FileNotFoundException naming {@code key} when {@code from} is a path that does not exist
   */
  public static PreviousOutput resolve(JobContext ctx, String key, String from, String out, String what)
      throws IOException {
    if (from.isEmpty()) {
      return new PreviousOutput(null, false, key + " is empty");
    }
    if (io.quarry.core.config.EmbeddingConfig.REUSE_AUTO.equals(from)) { // = ChunkingConfig.REUSE_AUTO
      if (!ctx.exists(out)) {
        return new PreviousOutput(null, false, "auto: " + out + " does not exist yet (first run)");
      }
      return new PreviousOutput(out, true, "");
    }
    if (!ctx.exists(from)) {
      throw new FileNotFoundException(key + ": " + from + " not found (" + what + ", \"auto\" for the previous "
          + "content of the stage's output, or \"\" for no reuse)");
    }
    return new PreviousOutput(from, sameDir(ctx, from, out), "");
  }

  /** Where the new output goes: {@code <out>.staging} when {@link #inPlace}, else {@code out}. */
  public String writeDir(String out) {
    return inPlace ? out + ".staging" : out;
  }

  /**
   * After the new output is complete in {@link #writeDir}: replaces {@code out} by it when {@link #inPlace} (delete,
   * then rename; a crash between the two leaves no {@code out}: the next run then reuses nothing, and the staging
   * directory still holds the complete new output); nothing otherwise.
   */
  public void swap(JobContext ctx, String out) throws IOException {
    if (!inPlace) {
      return;
    }
    String staging = writeDir(out);
    FileSystem fs = ctx.fs(out);
    Path o = new Path(out);
    if (fs.exists(o) && !fs.delete(o, true)) {
      throw new IOException("cannot delete " + out + " to replace it with " + staging);
    }
    if (!fs.rename(new Path(staging), o)) {
      throw new IOException("cannot rename " + staging + " to " + out);
    }
  }

  static boolean sameDir(JobContext ctx, String a, String b) throws IOException {
    FileSystem fa = ctx.fs(a);
    FileSystem fb = ctx.fs(b);
    return fa.makeQualified(new Path(a)).equals(fb.makeQualified(new Path(b)));
  }
}
