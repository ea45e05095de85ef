package io.quarry.core.search.fusion;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Reciprocal rank fusion (Cormack, Clarke and Büttcher, "Reciprocal Rank Fusion outperforms Condorcet and Individual
 * Rank Learning Methods", SIGIR 2009): {@code score(d) = Σ_s 1 / (k + rank_s(d))}, with {@code rank_s} the 1-based
 * rank of {@code d} among the fused items by signal {@code s}'s score; a signal without a score for {@code d} adds
 * nothing. Scale-free: only ranks count. Text form {@code rrf:k=60}; tuning grid: {@code tuning.rrfKs}, one curve
 * over {@code k}.
 *
 * @param k the RRF constant, {@code >= 1}; larger flattens the contribution of the top ranks
 */
public record Rrf(int k) implements Fusion {
  /** The RRF constant of Cormack et al. (2009). */
  public static final int DEFAULT_K = 60;

  public static final FusionMethod METHOD = new FusionMethod("rrf", "rrf:k=60",
      "reciprocal rank fusion, Σ 1/(k + rank) (Cormack et al., SIGIR 2009)", true, false, Set.of(),
      p -> new Rrf(p.k(DEFAULT_K)), g -> g.rrfKs().stream().<Fusion>map(Rrf::new).toList());

  /** @throws IllegalArgumentException unless {@code k >= 1} */
  public Rrf {
    FusionParams.checkK(k);
  }

  @Override
  public FusionMethod method() {
    return METHOD;
  }

  @Override
  public double[] fuse(List<Signal> signals) {
    double[] w = new double[signals.size()];
    Arrays.fill(w, 1.0);
    return weighted(signals, k, w);
  }

  /**
   * {@code Σ_s w_s / (k + rank_s(d))} over the signals in list order, a signal without a score for {@code d}
   * adding nothing; the weighted form {@link WeightedRrf} uses too.
   */
  static double[] weighted(List<Signal> signals, int k, double[] w) {
    double[] fused = new double[Signal.items(signals)];
    for (int s = 0; s < signals.size(); s++) {
      int[] r = signals.get(s).ranks();
      for (int i = 0; i < fused.length; i++) {
        fused[i] += r[i] > 0 ? w[s] / (k + r[i]) : 0;
      }
    }
    return fused;
  }

  @Override
  public String text() {
    return "rrf:k=" + k;
  }

  @Override
  public String family() {
    return "rrf";
  }

  @Override
  public String axis() {
    return "k=" + k;
  }
}
