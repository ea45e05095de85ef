package io.quarry.core.search.fusion;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;

/**
 * CombMNZ (Fox and Shaw, "Combination of Multiple Searches", TREC-2, 1994): the sum of an item's normalized scores
 * (CombSUM) times the number of signals whose first stage retrieved it, {@code score(d) = |{s : d ∈ R_s}| · Σ_s
 * φ(score_s(d))}, rewarding agreement between retrievers. Parameter-free apart from the normalization {@code φ};
 * min-max, as Lee ("Analyses of Multiple Evidence Combination", SIGIR 1997) found best, is the default. Only
 * normalizations into [0, 1] are accepted ({@code minmax}, {@code tmm}): with z-scores a negative sum would be pushed
 * further down by more retrievers' agreement. Text form {@code combmnz:minmax}; tuning grid: the accepted {@code
 * tuning.normalizations}, one point each. Not in the default {@code tuning.strategies}; list it there to try it.
 *
 * @param normalization the per-signal normalization, {@code minmax} or {@code tmm}
 */
public record CombMnz(Normalization normalization) implements Fusion {
  public static final FusionMethod METHOD = new FusionMethod("combmnz", "combmnz:minmax",
      "CombMNZ, (number of retrievers that returned it) × Σ φ(score) (Fox and Shaw, TREC-2 1994)", false, false,
      EnumSet.of(Normalization.MINMAX, Normalization.TMM), p -> new CombMnz(p.normalization(Normalization.MINMAX)),
      g -> CombMnz.METHOD.normalizationsOf(g).stream().<Fusion>map(CombMnz::new).toList());

  /** @throws IllegalArgumentException unless the normalization is {@code minmax} or {@code tmm} */
  public CombMnz {
    FusionParams.checkNormalization(METHOD, normalization);
  }

  @Override
  public FusionMethod method() {
    return METHOD;
  }

  @Override
  public double[] fuse(List<Signal> signals) {
    double[] ones = new double[signals.size()];
    Arrays.fill(ones, 1.0);
    double[] fused = ConvexCombination.weightedSum(signals, ones, normalization);
    for (int i = 0; i < fused.length; i++) {
      int retrievedBy = 0;
      for (Signal s : signals) {
        retrievedBy += s.retrieved()[i] ? 1 : 0;
      }
      fused[i] *= retrievedBy;
    }
    return fused;
  }

  @Override
  public String text() {
    return "combmnz:" + normalization.text();
  }

  @Override
  public String family() {
    return text();
  }

  @Override
  public String axis() {
    return "normalization=" + normalization.text();
  }
}
