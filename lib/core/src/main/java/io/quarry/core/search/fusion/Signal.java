package io.quarry.core.search.fusion;

import java.util.Arrays;
import java.util.List;

/**
 * One retrieval signal's scores over the items being fused (the candidate chunks of a query, or its candidate
 * documents): what every {@link Fusion} reads.
 *
 * @param name the signal's name (its retriever's stage name, e.g. {@code bm25}, {@code dense})
 * @param kind dense or lexical: {@code α} weights the dense signals against the lexical ones
 * @param scores one score per item, higher is better; NaN where the signal has no evidence for the item
 * @param retrieved per item, whether the signal's first stage returned it (the item is a candidate of this signal,
 *     not only scored by it afterwards); what agreement-based methods such as CombMNZ count
 * @param theoreticalMin the lowest score the scoring function can give (BM25: 0; inner product of unit vectors: −1),
 *     the lower bound of {@link Normalization#TMM}
 */
public record Signal(String name, Kind kind, double[] scores, boolean[] retrieved, double theoreticalMin) {
  /** What a signal measures. */
  public enum Kind {
    DENSE,
    LEXICAL
  }

  /** @throws IllegalArgumentException if the arrays differ in length */
  public Signal {
    if (scores.length != retrieved.length) {
      throw new IllegalArgumentException("signal " + name + ": " + scores.length + " scores, " + retrieved.length
          + " retrieved flags");
    }
  }

  /** Number of items. */
  public int size() {
    return scores.length;
  }

  /** The scores under a per-query normalization ({@link Normalization#apply}). */
  public double[] normalized(Normalization n) {
    return n.apply(scores, theoreticalMin);
  }

  /** 1-based ranks by descending score (ties by item position); items without a score (NaN) get rank 0. */
  public int[] ranks() {
    double[] s = scores;
    Integer[] order = new Integer[s.length];
    int m = 0;
    for (int i = 0; i < s.length; i++) {
      if (!Double.isNaN(s[i])) {
        order[m++] = i;
      }
    }
    Integer[] o = Arrays.copyOf(order, m);
    Arrays.sort(o, (a, b) -> {
      int c = Double.compare(s[b], s[a]);
      return c != 0 ? c : Integer.compare(a, b);
    });
    int[] r = new int[s.length];
    for (int k = 0; k < o.length; k++) {
      r[o[k]] = k + 1;
    }
    return r;
  }

  /**
   * The weight of each signal under a dense weight {@code α}: the dense signals share {@code α} equally, the lexical
   * ones share {@code 1 − α} (one dense and one lexical signal: exactly {@code α} and {@code 1 − α}). When one kind is
   * absent, the other kind's signals share the whole weight 1.
   */
  public static double[] alphaWeights(List<Signal> signals, double alpha) {
    int dense = 0;
    for (Signal s : signals) {
      dense += s.kind() == Kind.DENSE ? 1 : 0;
    }
    int lexical = signals.size() - dense;
    double wd = lexical == 0 ? 1 : alpha;
    double wl = dense == 0 ? 1 : 1 - alpha;
    double[] w = new double[signals.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = signals.get(i).kind() == Kind.DENSE ? wd / dense : wl / lexical;
    }
    return w;
  }

  /** The number of items of the signals, which must agree. @throws IllegalArgumentException if none or unequal */
  static int items(List<Signal> signals) {
    if (signals.isEmpty()) {
      throw new IllegalArgumentException("fusion needs at least one signal");
    }
    int n = signals.get(0).size();
    for (Signal s : signals) {
      if (s.size() != n) {
        throw new IllegalArgumentException("signals differ in length: " + s.name() + " has " + s.size() + ", not "
            + n);
      }
    }
    return n;
  }
}
