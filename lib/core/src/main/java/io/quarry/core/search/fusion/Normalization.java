package io.quarry.core.search.fusion;

import java.util.Locale;

/**
 * Per-query score normalization of one signal over the fused items, before a score-based fusion combines signals on
 * different scales (Bruch, Gai and Ingber, "An Analysis of Fusion Functions for Hybrid Retrieval", ACM TOIS 42(1),
 * 2023, section 4; Lee, "Analyses of Multiple Evidence Combination", SIGIR 1997, for min-max). Separate from the
 * fusion methods: those that combine scores (e.g. {@link ConvexCombination}) take one as a parameter. Text form: the lower-case
 * name ({@code minmax}, {@code zscore}, {@code tmm}).
 */
public enum Normalization {
  /** {@code (s − min) / (max − min)} over the query's items; in [0, 1]. */
  MINMAX(true),
  /** {@code (s − mean) / stddev} (population standard deviation) over the query's items; unbounded. */
  ZSCORE(false),
  /**
   * Theoretical min-max: {@code (s − lo) / (max − lo)} with {@code lo} the scoring function's theoretical minimum
   * (or the observed minimum if lower); in [0, 1]. Bruch et al.'s TM2C2 uses it in a convex combination.
   */
  TMM(true);

  private final boolean unitRange;

  Normalization(boolean unitRange) {
    this.unitRange = unitRange;
  }

  /** Whether normalized scores lie in [0, 1] (so sums of them are sums of non-negative evidence). */
  public boolean unitRange() {
    return unitRange;
  }

  /** The text form, e.g. {@code zscore}. */
  public String text() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The normalization of a text form, or null if there is none of that name. */
  public static Normalization ofText(String s) {
    for (Normalization n : values()) {
      if (n.text().equals(s)) {
        return n;
      }
    }
    return null;
  }

  /**
   * Normalized scores; a NaN score (no evidence) becomes 0, the bottom of the range for {@code minmax} and {@code
   * tmm}; for {@code zscore} it becomes the minimum's z-score. A constant signal normalizes to all 0.
   *
   * @param s scores, NaN where the signal has no evidence
   * @param theoreticalMin the scoring function's lowest possible score (used by {@link #TMM})
   */
  public double[] apply(double[] s, double theoreticalMin) {
    int n = s.length;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double sum = 0;
    int cnt = 0;
    for (double x : s) {
      if (!Double.isNaN(x)) {
        min = Math.min(min, x);
        max = Math.max(max, x);
        sum += x;
        cnt++;
      }
    }
    double[] out = new double[n];
    if (cnt == 0) {
      return out;
    }
    switch (this) {
      case MINMAX -> {
        double range = max - min;
        for (int i = 0; i < n; i++) {
          out[i] = Double.isNaN(s[i]) || range <= 0 ? 0 : (s[i] - min) / range;
        }
      }
      case TMM -> {
        double lo = Math.min(theoreticalMin, min);
        double range = max - lo;
        for (int i = 0; i < n; i++) {
          out[i] = Double.isNaN(s[i]) || range <= 0 ? 0 : (s[i] - lo) / range;
        }
      }
      case ZSCORE -> {
        double mean = sum / cnt;
        double var = 0;
        for (double x : s) {
          if (!Double.isNaN(x)) {
            var += (x - mean) * (x - mean);
          }
        }
        double sd = Math.sqrt(var / cnt);
        for (int i = 0; i < n; i++) {
          double x = Double.isNaN(s[i]) ? min : s[i];
          out[i] = sd <= 0 ? 0 : (x - mean) / sd;
        }
      }
      default -> throw new IllegalStateException(name());
    }
    return out;
  }
}
