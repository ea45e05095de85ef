package io.quarry.core.search.fusion;

import java.util.EnumSet;
import java.util.List;

/**
 * Convex combination of normalized scores: {@code score(d) = Σ_s w_s · φ(score_s(d))} with {@code φ} a per-query
 * {@link Normalization} and {@code w} from the dense weight {@code α} ({@link Signal#alphaWeights}; one dense and one
 * lexical signal: {@code α·φ(dense) + (1 − α)·φ(bm25)}). Bruch, Gai and Ingber, "An Analysis of Fusion Functions for
 * Hybrid Retrieval", ACM TOIS 42(1), 2023, who find it more sample-efficient and robust than RRF, and name the
 * theoretical-min-max variant TM2C2. Text form {@code convex:zscore,alpha=0.7}; tuning grid: {@code
 * tuning.normalizations} × {@code tuning.alphas}, one curve over {@code α} per normalization.
 *
 * @param normalization the per-signal normalization
 * @param alpha the dense weight, in [0, 1]
 */
public record ConvexCombination(Normalization normalization, double alpha) implements Fusion {
  /** The dense weight when the text form gives none. */
  public static final double DEFAULT_ALPHA = 0.7;

  public static final FusionMethod METHOD = new FusionMethod("convex", "convex:zscore,alpha=0.7",
      "convex combination of normalized scores, α·φ(dense) + (1 − α)·φ(lexical) (Bruch et al., TOIS 2023)", false,
      true, EnumSet.allOf(Normalization.class),
      p -> new ConvexCombination(p.normalization(Normalization.ZSCORE), p.alpha(DEFAULT_ALPHA)),
      g -> ConvexCombination.METHOD.normalizationsOf(g).stream().<Fusion>mapMulti((n, out) -> g.alphas().forEach(
          a -> out.accept(new ConvexCombination(n, a)))).toList());

  /** @throws IllegalArgumentException without a normalization or with {@code α} outside [0, 1] */
  public ConvexCombination {
    FusionParams.checkNormalization(METHOD, normalization);
    FusionParams.checkAlpha(alpha);
  }

  @Override
  public FusionMethod method() {
    return METHOD;
  }

  @Override
  public double[] fuse(List<Signal> signals) {
    return weightedSum(signals, Signal.alphaWeights(signals, alpha), normalization);
  }

  /** {@code Σ_s w_s · φ(score_s(d))} over the signals in list order (CombSUM when every weight is 1). */
  static double[] weightedSum(List<Signal> signals, double[] w, Normalization phi) {
    double[] fused = new double[Signal.items(signals)];
    for (int s = 0; s < signals.size(); s++) {
      double[] x = signals.get(s).normalized(phi);
      for (int i = 0; i < fused.length; i++) {
        fused[i] += w[s] * x[i];
      }
    }
    return fused;
  }

  @Override
  public String text() {
    return "convex:" + normalization.text() + ",alpha=" + FusionParams.format(alpha);
  }

  @Override
  public String family() {
    return "convex:" + normalization.text();
  }

  @Override
  public String axis() {
    return FusionParams.alphaAxis(alpha);
  }
}
