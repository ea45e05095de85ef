package io.quarry.jobs;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Names of the temporary files and directories a stage writes beside its output, and the clean-up of the ones a
 * killed run of the same stage left behind, by that stage's next run.
 *
 * <p>A temporary name is {@code <prefix><createdMillis>-<pid>-<hostTag>[-...]}: when it was created, by which process
 * (the JVM's pid) on which host (8 hex digits of a hash of the host name). A leftover is <em>stale</em>, and deleted,
 * when it has the stage's own prefix and
 * <ul>
 *   <li>its process is gone: same host, and no live process has its pid (a retried task on the same machine cleans
 *       up at once), or</li>
 *   <li>it is older than {@link #maxAgeMillis()} (default {@value #DEFAULT_MAX_AGE_HOURS} h, system property
 *       {@value #MAX_AGE_PROPERTY}): for another host's leftovers, whose process cannot be checked; no run of a stage
 *       lasts that long, or</li>
 *   <li>its suffix is not of that form: written before these names (never by a live run).</li>
 * </ul>
 * A live run's temporary directory (its pid alive on this host, or another host's younger than the maximum age) is
 * never touched, nor one created after this run started (clock skew between hosts aside), nor another prefix's.
 */
public final class StaleTemp {
  private static final Logger LOG = LoggerFactory.getLogger(StaleTemp.class);

  /** System property overriding {@link #DEFAULT_MAX_AGE_HOURS} (hours, may be fractional). */
  public static final String MAX_AGE_PROPERTY = "quarry.staleTempMaxAgeHours";
  /** Age after which another host's leftover is deleted. */
  public static final int DEFAULT_MAX_AGE_HOURS = 24;

  private static final String HOST_TAG = hostTag();

  private StaleTemp() {}

  /** The suffix of a new temporary name of this process: {@code <millis>-<pid>-<hostTag>-<nonce>}. */
  public static String suffix() {
    return System.currentTimeMillis() + "-" + ProcessHandle.current().pid() + "-" + HOST_TAG + "-"
        + Long.toHexString(System.nanoTime());
  }

  /** Hours after which another host's leftover is stale. */
  public static long maxAgeMillis() {
    String p = System.getProperty(MAX_AGE_PROPERTY);
    double h = p == null || p.isBlank() ? DEFAULT_MAX_AGE_HOURS : Double.parseDouble(p.strip());
    return (long) (h * 3_600_000L);
  }

  /**
   * Whether {@code name} (with {@code prefix}) is a leftover of a run that is no longer running (see the class
   * comment).
   *
   * @param runStart when the cleaning run started (epoch millis): anything created later is never stale
   */
  public static boolean isStale(String name, String prefix, long runStart) {
    return isStale(name, prefix, runStart, -1);
  }

  /**
   * {@link #isStale(String, String, long)}, with a name of the old form stale only when {@code mtime} (epoch millis)
   * is older than {@link #maxAgeMillis()}; {@code mtime < 0}: stale at once.
   */
  public static boolean isStale(String name, String prefix, long runStart, long mtime) {
    if (!name.startsWith(prefix)) {
      return false;
    }
    String[] p = name.substring(prefix.length()).split("-");
    long created;
    long pid;
    try {
      if (p.length < 3) {
        throw new NumberFormatException("old form");
      }
      created = Long.parseLong(p[0]);
      pid = Long.parseLong(p[1]);
    } catch (NumberFormatException e) { // not of this form: written before these names
      return mtime < 0 || runStart - mtime > maxAgeMillis();
    }
    if (created >= runStart) {
      return false;
    }
    if (p[2].equals(HOST_TAG)) {
      return pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
    }
    return runStart - created > maxAgeMillis();
  }

  /**
   * Deletes every stale {@code <dir>/<prefix>*} (recursively).
   *
   * @param stage for the log, e.g. {@code evaluate}
   * @return the deleted paths
   */
  public static List<Path> clean(FileSystem fs, Path dir, String prefix, long runStart, String stage)
      throws IOException {
    List<Path> deleted = new ArrayList<>();
    FileStatus[] found = fs.globStatus(new Path(dir, globEscape(prefix) + "*"));
    if (found == null) {
      return deleted;
    }
    for (FileStatus f : found) {
      if (isStale(f.getPath().getName(), prefix, runStart) && fs.delete(f.getPath(), true)) {
        LOG.info("{}: deleted {} left by a run that is no longer running", stage, f.getPath());
        deleted.add(f.getPath());
      }
    }
    return deleted;
  }

  /**
   * {@link #clean(FileSystem, Path, String, long, String)} on a local directory (java.nio) that other programs may
   * share ({@code java.io.tmpdir}): a name of the old form is deleted only once older than the maximum age.
   */
  public static List<java.nio.file.Path> cleanLocal(java.nio.file.Path dir, String prefix, long runStart,
      String stage) {
    List<java.nio.file.Path> deleted = new ArrayList<>();
    if (!java.nio.file.Files.isDirectory(dir)) {
      return deleted;
    }
    try (Stream<java.nio.file.Path> s = java.nio.file.Files.list(dir)) {
      for (java.nio.file.Path p : s.filter(x -> isStale(x.getFileName().toString(), prefix, runStart,
          mtime(x))).toList()) {
        try (Stream<java.nio.file.Path> w = java.nio.file.Files.walk(p)) {
          for (java.nio.file.Path x : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
            java.nio.file.Files.deleteIfExists(x);
          }
          LOG.info("{}: deleted {} left by a run that is no longer running", stage, p);
          deleted.add(p);
        } catch (IOException | java.io.UncheckedIOException e) {
          // another cleaner (a sibling task, another process) got there first — Files.walk reports an entry that
          // vanished mid-walk as UncheckedIOException — or no permission: not this run's job
          LOG.debug("{}: cannot delete {}: {}", stage, p, e.toString());
        }
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      LOG.debug("{}: cannot list {}: {}", stage, dir, e.toString());
    }
    return deleted;
  }

  private static long mtime(java.nio.file.Path p) {
    try {
      return java.nio.file.Files.getLastModifiedTime(p).toMillis();
    } catch (IOException e) {
      return Long.MAX_VALUE; // gone already: not stale
    }
  }

  private static String globEscape(String s) {
    return s.replaceAll("([\\\\*?\\[\\]{}])", "\\\\$1");
  }

  /** This host's tag: 8 hex digits of a hash of the host name (no {@code -}, safe in any path). */
  static String hostTag() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (IOException | RuntimeException e) {
      host = System.getenv().getOrDefault("HOSTNAME", "unknown");
    }
    int h = 0;
    for (byte b : host.getBytes(StandardCharsets.UTF_8)) {
      h = 31 * h + b;
    }
    return String.format("%08x", h);
  }

  /** This host's tag, for tests. */
  public static String thisHost() {
    return HOST_TAG;
  }
}
