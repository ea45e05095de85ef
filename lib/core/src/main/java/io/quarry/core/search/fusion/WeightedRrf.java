package io.quarry.core.search.fusion;

import java.util.List;
import java.util.Set;

/**
 * Weighted reciprocal rank fusion: {@code score(d) = Σ_s w_s / (k + rank_s(d))}, the weighted form of Cormack et
 * al.'s RRF ({@link Rrf}) with {@code w} from the dense weight {@code α} ({@link Signal#alphaWeights}: the dense
 * signals share {@code α}, the lexical ones {@code 1 − α}; one of each: {@code α/(k + rank_dense) + (1 − α)/(k +
 * rank_bm25)}). Text form {@code wrrf:k=60,alpha=0.7}; tuning grid: {@code tuning.rrfKs} × {@code tuning.alphas},
 * one curve over {@code α} per {@code k}.
 *
 * @param k the RRF constant, {@code >= 1}
 * @param alpha the dense weight, in [0, 1]
 */
public record WeightedRrf(int k, double alpha) implements Fusion {
  /** The dense weight when the text form gives none (that of the default convex combination). */
  public static final double DEFAULT_ALPHA = ConvexCombination.DEFAULT_ALPHA;

  public static final FusionMethod METHOD = new FusionMethod("wrrf", "wrrf:k=60,alpha=0.7",
      "weighted RRF, α/(k + rank_dense) + (1 − α)/(k + rank_lexical)", true, true, Set.of(),
      p -> new WeightedRrf(p.k(Rrf.DEFAULT_K), p.alpha(DEFAULT_ALPHA)),
      g -> g.rrfKs().stream().<Fusion>mapMulti((k, out) -> g.alphas().forEach(a -> out.accept(new WeightedRrf(k, a))))
          .toList());

  /** @throws IllegalArgumentException unless {@code k >= 1} and {@code α} in [0, 1] */
  public WeightedRrf {
    FusionParams.checkK(k);
    FusionParams.checkAlpha(alpha);
  }

  @Override
  public FusionMethod method() {
    return METHOD;
  }

  @Override
  public double[] fuse(List<Signal> signals) {
    return Rrf.weighted(signals, k, Signal.alphaWeights(signals, alpha));
  }

  @Override
  public String text() {
    return "wrrf:k=" + k + ",alpha=" + FusionParams.format(alpha);
  }

  @Override
  public String family() {
    return "wrrf:k=" + k;
  }

  @Override
  public String axis() {
    return FusionParams.alphaAxis(alpha);
  }
}
