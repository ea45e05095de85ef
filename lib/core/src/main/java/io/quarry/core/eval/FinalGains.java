package io.quarry.core.eval;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The final stage's gain over the best single-signal stage — what a fusion or re-ranking stage must show to be worth
 * its cost — with the paired tests of {@link PairedTests} over the per-query values (Smucker, Allan and Carterette,
 * CIKM 2007, for the randomization test in IR evaluation).
 */
public final class FinalGains {
  /** Stages that use one signal only: the baselines a hybrid final stage is compared with. */
  public static final Set<String> SINGLE_SIGNAL = Set.of("bm25", "exact", "rescore");

  private FinalGains() {}

  /**
   * @param stages every evaluated stage with per-query values
   * @param finalStage the final stage's name
   * @param metric the metric compared, e.g. {@code nDCG@10}
   * @return null when the final stage is itself a single signal or no single-signal stage ran
   */
  public static EvalReport.FinalGain of(List<EvalReport.StageResult> stages, String finalStage, String metric,
      int permutations, long seed) {
    if (SINGLE_SIGNAL.contains(finalStage)) {
      return null;
    }
    EvalReport.StageResult fin = null;
    EvalReport.StageResult best = null;
    for (EvalReport.StageResult s : stages) {
      if (s.name().equals(finalStage)) {
        fin = s;
      } else if (SINGLE_SIGNAL.contains(s.name()) && s.metrics().get(metric) != null
          && (best == null || s.metrics().get(metric) > best.metrics().get(metric))) {
        best = s;
      }
    }
    if (fin == null || best == null) {
      return null;
    }
    Map<String, Map<String, Double>> a = fin.perQuery();
    Map<String, Map<String, Double>> b = best.perQuery();
    double[] d = new double[a.size()];
    int i = 0;
    int better = 0;
    int worse = 0;
    for (Map.Entry<String, Map<String, Double>> e : a.entrySet()) {
      double x = e.getValue().get(metric) - b.get(e.getKey()).get(metric);
      d[i++] = x;
      better += x > 0 ? 1 : 0;
      worse += x < 0 ? 1 : 0;
    }
    double fv = fin.metrics().get(metric);
    double bv = best.metrics().get(metric);
    return new EvalReport.FinalGain(finalStage, best.name(), metric, fv, bv, fv - bv,
        PairedTests.randomization(d, permutations, seed), PairedTests.tTest(d), better, worse);
  }
}
