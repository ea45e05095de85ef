package io.quarry.jobs;

import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.QuarryConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Shared set-up of the Spark job tests: one loopback {@code local[2]} SparkContext per test JVM, a session of its own
 * for each test class, and job contexts from config overrides.
 *
 * <p>Starting a SparkContext costs seconds (and stopping one more), so the test classes of a JVM share one:
 * {@link #localSpark} creates it on first use and hands each class a {@link SparkSession#newSession() new session} on
 * it (its own SQL conf, temporary views and functions); {@link #release} ends the class's use of it. What sessions of
 * one context share, and how a class leaves it as it found it:
 *
 * <ul>
 *   <li>the cache (Dataset.cache and persisted RDDs): {@link #release} uncaches everything;
 *   <li>the Hadoop configuration ({@code sparkContext().hadoopConfiguration()}): a test that sets keys unsets them
 *       itself, and {@link #release} puts back any key that code changed since the context started (and says so);
 *   <li>static Spark settings (master, {@code spark.hadoop.*} for the executors, …): fixed when the context starts.
 *       A class that needs other ones calls {@link #stopShared} and builds its own session (and stops it); so does a
 *       class that runs a CLI command that opens Spark (the command joins and then stops whatever session exists);
 *   <li>files shipped with {@code addFile} (a custom embedding model): registered for the context's life, fetched by
 *       name; a directory name is shipped by one class only.
 * </ul>
 *
 * <p>Only classes annotated {@link SparkTest} may start Spark ({@link SparkTestGuard}).
 */
public final class SparkTestSupport {
  private SparkTestSupport() {}

  /** The test JVM's shared context (its first session), or null before the first use and after {@link #stopShared}. */
  private static SparkSession shared;
  /** The shared context's Hadoop configuration as it started. */
  private static Map<String, String> hadoopAtStart;

  /**
   * A session of the calling test class's own on the JVM's shared {@code local[2]} context (UI off, bound to
   * 127.0.0.1), with {@code spark.sql.shuffle.partitions=shufflePartitions}; it becomes the thread's active and the
   * default session. Release it with {@link #release} in {@code @AfterAll} (never {@code stop()} it: that stops the
   * shared context).
   *
   * @param name names the class's Spark jobs (job description)
   */
  public static synchronized SparkSession localSpark(String name, int shufflePartitions) {
    if (shared == null || shared.sparkContext().isStopped()) {
      SparkSession.clearActiveSession();
      SparkSession.clearDefaultSession();
      shared = SparkSession.builder().master("local[2]").appName("quarry-jobs-tests")
          .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
          // Progress reads running tasks' accumulators from executor heartbeats (10 s by default):
          // EmbedJobTest waits for one
          .config("spark.executor.heartbeatInterval", "1s")
          .getOrCreate();
      shared.sharedState(); // sets hive.metastore.warehouse.dir in the Hadoop configuration: part of the start
      hadoopAtStart = asMap(shared.sparkContext().hadoopConfiguration());
    }
    SparkSession s = shared.newSession();
    s.conf().set("spark.sql.shuffle.partitions", String.valueOf(shufflePartitions));
    s.sparkContext().setJobDescription(name);
    SparkSession.setActiveSession(s);
    SparkSession.setDefaultSession(s);
    return s;
  }

  /**
   * Ends a test class's use of the shared context: uncaches every Dataset and RDD, restores the Hadoop configuration
   * as the context started, clears the active and default session. The context keeps running for the next class.
   */
  public static synchronized void release(SparkSession s) {
    SparkSession.clearActiveSession();
    SparkSession.clearDefaultSession();
    s.sparkContext().setJobDescription(null);
    if (s.sparkContext().isStopped()) {
      return;
    }
    s.catalog().clearCache();
    JavaSparkContext.fromSparkContext(s.sparkContext()).getPersistentRDDs().values()
        .forEach(rdd -> rdd.unpersist(true));
    if (shared != null && s.sparkContext() == shared.sparkContext()) {
      restoreHadoopConf(s.sparkContext().hadoopConfiguration());
    }
  }

  /**
   * Puts back what code changed in the shared Hadoop configuration since the context started: keys set
   * programmatically are reset to their value at start or unset; keys unset since are set again. Keys that came from
   * a default resource loaded since (mapred-default.xml, once Spark first writes) stay, as in a fresh context.
   */
  private static void restoreHadoopConf(Configuration h) {
    Map<String, String> now = asMap(h);
    List<String> restored = new ArrayList<>();
    for (Map.Entry<String, String> e : now.entrySet()) {
      String k = e.getKey();
      String[] sources = h.getPropertySources(k);
      boolean setByCode = sources != null && List.of(sources).contains("programmatically");
      if (setByCode && !e.getValue().equals(hadoopAtStart.get(k))) {
        if (hadoopAtStart.containsKey(k)) {
          h.set(k, hadoopAtStart.get(k));
        } else {
          h.unset(k);
        }
        restored.add(k);
      }
    }
    hadoopAtStart.forEach((k, v) -> {
      if (!now.containsKey(k)) {
        h.set(k, v);
        restored.add(k);
      }
    });
    if (!restored.isEmpty()) {
      System.err.println("SparkTestSupport: a test class left the shared Hadoop configuration changed; restored "
          + restored);
    }
  }

  /**
   * Stops the shared context (if running), for a class that needs a SparkContext of its own or runs a CLI command
   * that opens Spark; the next {@link #localSpark} starts a new shared one.
   */
  public static synchronized void stopShared() {
    if (shared != null) {
      shared.stop();
      shared = null;
    }
    SparkSession.clearActiveSession();
    SparkSession.clearDefaultSession();
  }

  private static Map<String, String> asMap(Configuration c) {
    Map<String, String> m = new HashMap<>();
    for (Map.Entry<String, String> e : c) {
      m.put(e.getKey(), e.getValue());
    }
    return m;
  }

  /** A job context: built-in defaults, {@code paths.work=<work>}, then {@code overrides} in order. */
  public static JobContext context(SparkSession spark, Path work, String... overrides) {
    List<String> o = new ArrayList<>(List.of("paths.work=" + work));
    o.addAll(List.of(overrides));
    QuarryConfig c = ConfigLoader.load(List.of(), o);
    return new JobContext(spark, c, ConfigLoader.toJson(c), ConfigLoader.hash(c));
  }
}
