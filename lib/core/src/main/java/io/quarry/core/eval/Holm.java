package io.quarry.core.eval;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Holm's step-down multiple-comparison correction (S. Holm, "A simple sequentially rejective multiple test
 * procedure", Scandinavian Journal of Statistics 6(2), 1979): controls the family-wise error rate at α for any
 * dependence between the tests, and rejects at least what Bonferroni rejects.
 *
 * <p>With the {@code m} p-values sorted ascending, {@code p_(1) ≤ … ≤ p_(m)}, the adjusted values are
 * {@code p̃_(i) = min(1, max_{j ≤ i} (m − j + 1) · p_(j))}; hypothesis {@code i} is rejected at level α exactly when
 * {@code p̃_i ≤ α} (the same as the step-down procedure: reject while {@code p_(i) ≤ α / (m − i + 1)}). This is R's
 * {@code p.adjust(p, "holm")}.
 */
public final class Holm {
  private Holm() {}

  /**
   * Holm-adjusted p-values.
   *
   * @param p the family's unadjusted p-values, each in [0, 1] (the array is not modified)
   * @return the adjusted p-values, in the order of {@code p} (empty for an empty family)
   * @throws IllegalArgumentException if a p-value is NaN or outside [0, 1]
   */
  public static double[] adjust(double[] p) {
    int m = p.length;
    Integer[] order = new Integer[m];
    for (int i = 0; i < m; i++) {
      if (!(p[i] >= 0 && p[i] <= 1)) {
        throw new IllegalArgumentException("p-value " + i + " is " + p[i] + ", expected a value in [0, 1]");
      }
      order[i] = i;
    }
    // stable: equal p-values keep their input order (their adjusted values are equal anyway)
    Arrays.sort(order, Comparator.comparingDouble(i -> p[i]));
    double[] adj = new double[m];
    double running = 0;
    for (int rank = 0; rank < m; rank++) {
      int i = order[rank];
      running = Math.max(running, Math.min(1.0, (m - rank) * p[i]));
      adj[i] = running;
    }
    return adj;
  }

  /**
   * Which hypotheses Holm's procedure rejects at family-wise level {@code alpha}.
   *
   * @throws IllegalArgumentException if {@code alpha} is not in (0, 1) or a p-value is invalid (see {@link #adjust})
   */
  public static boolean[] rejected(double[] p, double alpha) {
    if (!(alpha > 0 && alpha < 1)) {
      throw new IllegalArgumentException("alpha must be in (0, 1), got " + alpha);
    }
    double[] adj = adjust(p);
    boolean[] r = new boolean[adj.length];
    for (int i = 0; i < adj.length; i++) {
      r[i] = adj[i] <= alpha;
    }
    return r;
  }
}
