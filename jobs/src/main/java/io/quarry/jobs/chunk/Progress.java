package io.quarry.jobs.chunk;

import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;

/**
 * Driver-side progress log of a stage: every {@code periodSeconds} it logs the units done (from Spark accumulators,
 * which executors report as their tasks finish), the rate and, when the total is known, the ETA. Close it when the
 * stage's action returns.
 */
public final class Progress implements AutoCloseable {
  private final Logger log;
  private final String stage;
  private final String unit;
  private final String secondaryUnit;
  private final long total;
  private final LongAccumulator done;
  private final LongAccumulator secondary;
  private final long t0 = System.nanoTime();
  private final ScheduledExecutorService timer;

  /**
   * @param total units expected, or -1 if unknown (no ETA)
   * @param unit name of the main unit (e.g. {@code documents})
   * @param secondaryUnit name of a second counter (e.g. {@code chunks}), or null
   */
  public Progress(SparkContext sc, Logger log, String stage, String unit, long total, String secondaryUnit,
      int periodSeconds) {
    this.log = log;
    this.stage = stage;
    this.unit = unit;
    this.secondaryUnit = secondaryUnit;
    this.total = total;
    this.done = sc.longAccumulator(stage + "." + unit);
    this.secondary = secondaryUnit == null ? null : sc.longAccumulator(stage + "." + secondaryUnit);
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "quarry-progress-" + stage);
      t.setDaemon(true);
      return t;
    });
    timer.scheduleAtFixedRate(this::report, periodSeconds, periodSeconds, TimeUnit.SECONDS);
  }

  /** Counter of main units, to add to from executors. */
  public LongAccumulator done() {
    return done;
  }

  /** Counter of secondary units, or null. */
  public LongAccumulator secondary() {
    return secondary;
  }

  /** Logs one progress line now. */
  public void report() {
    double secs = Math.max(1e-3, (System.nanoTime() - t0) / 1e9);
    long n = done.value();
    double rate = n / secs;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%s: %,d%s %s", stage, n, total >= 0 ? String.format(Locale.ROOT,
        "/%,d", total) : "", unit));
    if (secondary != null) {
      sb.append(String.format(Locale.ROOT, ", %,d %s", secondary.value(), secondaryUnit));
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
    report();
  }
}
