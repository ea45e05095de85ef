package io.quarry.jobs.chunk;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Driver-side progress log of a stage: every {@code periodSeconds} it logs the units done, the rate and, when the
 * total is known, the ETA. Close it when the stage's action returns.
 *
 * <p>The units come from Spark accumulators that the executors add to as they go (e.g. per embedding batch). A
 * driver-side accumulator only changes when a task ends, so a long task would show no progress at all; this class
 * therefore also listens to the executors' heartbeats ({@code spark.executor.heartbeatInterval}, 10 s by default),
 * which carry the running tasks' partial accumulator values: {@link #live()} = the final values of the tasks that
 * succeeded + the latest partial values of the running ones. A failed task's partial value is dropped (its retry
 * counts again). After {@link #close()}, the accumulator's own (exact) value is reported.
 */
public final class Progress implements AutoCloseable {
  private final SparkContext sc;
  private final Logger log;
  private final String stage;
  private final String unit;
  private final String secondaryUnit;
  private final long total;
  private final LongAccumulator done;
  private final LongAccumulator secondary;
  private final long t0 = System.nanoTime();
  private final ScheduledExecutorService timer;
  private final Listener listener;
  private final Listener secondaryListener;

  /**
   * @param total units expected, or -1 if unknown (no ETA)
   * @param unit name of the main unit (e.g. {@code documents})
   * @param secondaryUnit name of a second counter (e.g. {@code chunks}), or null
   * @param periodSeconds seconds between two log lines (&gt; 0)
   */
  public Progress(SparkContext sc, Logger log, String stage, String unit, long total, String secondaryUnit,
      int periodSeconds) {
    this.sc = sc;
    this.log = log;
    this.stage = stage;
    this.unit = unit;
    this.secondaryUnit = secondaryUnit;
    this.total = total;
    this.done = sc.longAccumulator(stage + "." + unit);
    this.secondary = secondaryUnit == null ? null : sc.longAccumulator(stage + "." + secondaryUnit);
    this.listener = new Listener(done.id());
    sc.addSparkListener(listener);
    this.secondaryListener = secondary == null ? null : new Listener(secondary.id());
    if (secondaryListener != null) {
      sc.addSparkListener(secondaryListener);
    }
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "quarry-progress-" + stage);
      t.setDaemon(true);
      return t;
    });
    timer.scheduleAtFixedRate(this::report, periodSeconds, periodSeconds, TimeUnit.SECONDS);
  }

  /** Counter of main units, to add to from executors (as often as useful: every batch, say). */
  public LongAccumulator done() {
    return done;
  }

  /** Counter of secondary units, or null. */
  public LongAccumulator secondary() {
    return secondary;
  }

  /**
   * Main units done so far, including the running tasks' partial counts as of their last heartbeat (never more
   * than the exact accumulator value plus those partial counts; at least the accumulator's value).
   */
  public long live() {
    return Math.max(done.value(), listener.live());
  }

  /** Logs one progress line now. */
  public void report() {
    double secs = Math.max(1e-3, (System.nanoTime() - t0) / 1e9);
    long n = live();
    double rate = n / secs;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%s: %,d%s %s", stage, n, total >= 0 ? String.format(Locale.ROOT,
        "/%,d", total) : "", unit));
    if (secondary != null) {
      sb.append(String.format(Locale.ROOT, ", %,d %s", Math.max(secondary.value(), secondaryListener.live()),
          secondaryUnit));
    }
    sb.append(String.format(Locale.ROOT, ", %.1f %s/s, %.0f s elapsed", rate, unit, secs));
    if (total > 0 && rate > 0 && n < total) {
      sb.append(String.format(Locale.ROOT, ", ETA %.0f s", (total - n) / rate));
    }
    log.info(sb.toString());
  }

  @Override
  public void close() {
    timer.shutdownNow();
    sc.removeSparkListener(listener);
    if (secondaryListener != null) {
      sc.removeSparkListener(secondaryListener);
    }
    report();
  }

  /** Sums one accumulator over succeeded tasks (final values) and running tasks (heartbeat values). */
  static final class Listener extends SparkListener {
    private final long accumulatorId;
    private final AtomicLong completed = new AtomicLong();
    private final Map<Long, Long> running = new ConcurrentHashMap<>();

    Listener(long accumulatorId) {
      this.accumulatorId = accumulatorId;
    }

    long live() {
      long n = completed.get();
      for (long v : running.values()) {
        n += v;
      }
      return n;
    }

    @Override
    public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate e) {
      for (Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> t
          : CollectionConverters.asJava(e.accumUpdates())) {
        Long v = valueOf(t._4());
        if (v != null) {
          running.put((Long) t._1(), v);
        }
      }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd e) {
      running.remove(e.taskInfo().taskId());
      if (e.taskInfo().successful()) {
        Long v = valueOf(e.taskInfo().accumulables());
        if (v != null) {
          completed.addAndGet(v);
        }
      }
    }

    private Long valueOf(scala.collection.Seq<AccumulableInfo> infos) {
      for (AccumulableInfo a : CollectionConverters.asJava(infos)) {
        if (a.id() == accumulatorId && a.update().isDefined() && a.update().get() instanceof Number n) {
          return n.longValue();
        }
      }
      return null;
    }
  }
}
