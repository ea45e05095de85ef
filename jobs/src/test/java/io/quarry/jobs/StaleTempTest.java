package io.quarry.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A stage's next run deletes its own killed runs' temporary directories, never a live run's nor another prefix's. */
class StaleTempTest {
  @TempDir Path tmp;

  static final long HOUR = 3_600_000L;

  /** The pid of a process that has ended. */
  static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    long pid = p.pid();
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    return pid;
  }

  static String name(String prefix, long created, long pid, String host) {
    return prefix + created + "-" + pid + "-" + host + "-1f";
  }

  @Test
  void onlyLeftoversOfRunsThatAreNoLongerRunningAreStale() throws Exception {
    long now = System.currentTimeMillis();
    String p = ".keep.tmp-";
    String here = StaleTemp.thisHost();
    long dead = deadPid();
    long live = ProcessHandle.current().parent().orElseThrow().pid(); // another live process (the build's)
    // a killed run on this host: stale at once, however young
    assertThat(StaleTemp.isStale(name(p, now - 1000, dead, here), p, now)).isTrue();
    // a live run on this host (another process or this one), however old: kept
    assertThat(StaleTemp.isStale(name(p, now - 1000, live, here), p, now)).isFalse();
    assertThat(StaleTemp.isStale(name(p, now - 100 * HOUR, ProcessHandle.current().pid(), here), p, now)).isFalse();
    // another host's: kept until older than the maximum age (24 h by default)
    assertThat(StaleTemp.isStale(name(p, now - HOUR, dead, "0badc0de"), p, now)).isFalse();
    assertThat(StaleTemp.isStale(name(p, now - 25 * HOUR, dead, "0badc0de"), p, now)).isTrue();
    // created after this run started: never
    assertThat(StaleTemp.isStale(name(p, now + 5, dead, here), p, now)).isFalse();
    // another prefix (another run id, another stage): never
    assertThat(StaleTemp.isStale(name(".keeper.tmp-", now - 1000, dead, here), p, now)).isFalse();
    // the old form (no time, pid, host): at once in a stage's own directory; by age in a shared one
    assertThat(StaleTemp.isStale(".keep.tmp-17a3f", p, now)).isTrue();
    assertThat(StaleTemp.isStale("quarry-shard-8812", "quarry-shard-", now, now - HOUR)).isFalse();
    assertThat(StaleTemp.isStale("quarry-shard-8812", "quarry-shard-", now, now - 25 * HOUR)).isTrue();
    // a name of this process is of the form isStale reads
    String mine = p + StaleTemp.suffix();
    assertThat(StaleTemp.isStale(mine, p, now + 1)).isFalse();
    assertThat(mine.substring(p.length()).split("-")).hasSize(4);
  }

  @Test
  void cleanDeletesTheStaleOnesThroughHadoopAndLocally() throws Exception {
    long now = System.currentTimeMillis();
    long dead = deadPid();
    String here = StaleTemp.thisHost();
    Path eval = Files.createDirectories(tmp.resolve("eval"));
    Path killed = Files.createDirectories(eval.resolve(name(".r1.tmp-", now - 5000, dead, here)).resolve("runs"));
    Files.writeString(killed.resolve("bm25.trec"), "partial");
    Path live = Files.createDirectories(eval.resolve(".r1.tmp-" + StaleTemp.suffix()));
    Path other = Files.createDirectories(eval.resolve(name(".r2.tmp-", now - 5000, dead, here)));
    FileSystem fs = FileSystem.getLocal(new Configuration());
    assertThat(StaleTemp.clean(fs, new org.apache.hadoop.fs.Path(eval.toUri()), ".r1.tmp-", now + 1, "evaluate"))
        .hasSize(1);
    assertThat(killed.getParent()).doesNotExist();
    assertThat(live).isDirectory();
    assertThat(other).isDirectory();

    // a publish killed between writing CURRENT's temporary file and the rename; an old-form shard directory
    Path index = Files.createDirectories(tmp.resolve("index"));
    Path current = Files.writeString(index.resolve(name("CURRENT.tmp-", now - 5000, dead, here)), "v1\n");
    Path young = Files.createDirectories(index.resolve("CURRENT.tmp-4242"));
    Path old = Files.createDirectories(index.resolve("CURRENT.tmp-4343"));
    Files.setLastModifiedTime(old, FileTime.fromMillis(now - 48 * HOUR));
    assertThat(StaleTemp.cleanLocal(index, "CURRENT.tmp-", now, "publish")).containsExactlyInAnyOrder(current, old);
    assertThat(young).isDirectory();
  }
  /**
   * Two shard tasks of one executor clean the same killed run's leftover at once (what made a build fail with
   * NoSuchFileException after a run killed by OutOfMemoryError): every cleaner returns, none throws, the leftover is
   * gone.
   */
  @Test
  void concurrentCleanersOfOneLeftoverNeverThrow() throws Exception {
    long dead = deadPid();
    String here = StaleTemp.thisHost();
    for (int round = 0; round < 10; round++) {
      Path dir = Files.createDirectories(tmp.resolve("r" + round));
      long now = System.currentTimeMillis();
      Path killed = dir.resolve(name("quarry-shard-", now - 5000, dead, here));
      for (int s = 0; s < 20; s++) {
        Path shard = Files.createDirectories(killed.resolve("shard-" + s).resolve("bm25"));
        for (int f = 0; f < 50; f++) {
          Files.writeString(shard.resolve("f" + f), "x");
        }
      }
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
      try {
        List<java.util.concurrent.Future<List<Path>>> runs = new java.util.ArrayList<>();
        for (int t = 0; t < 4; t++) {
          runs.add(pool.submit(() -> StaleTemp.cleanLocal(dir, "quarry-shard-", now, "build")));
        }
        for (java.util.concurrent.Future<List<Path>> r : runs) {
          r.get(); // a cleaner's exception would surface here
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(killed).doesNotExist();
    }
  }
}
