package io.quarry.core.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The tuner's choice rule: best smoothed objective within budget, near-ties go to the cheaper point. */
class FusionTunerChoiceTest {
  static FusionTuner.Point p(int nprobe, int depth, double smoothed, double bytes, boolean ok) {
    return new FusionTuner.Point(nprobe, depth, "convex:zscore,alpha=0.7", smoothed, smoothed, 1.0, bytes, ok);
  }

  @Test
  void nearTiesGoToTheCheapestPointAndBudgetsExcludePoints() {
    FusionTuner.Point cheap = p(8, 100, 0.7680, 100_000, true);
    FusionTuner.Point mid = p(16, 100, 0.7688, 300_000, true);
    FusionTuner.Point best = p(32, 500, 0.7693, 1_500_000, true);
    FusionTuner.Point over = p(64, 500, 0.7800, 3_000_000, false);
    List<FusionTuner.Point> points = List.of(cheap, mid, best, over);
    // strictly the best within budget
    assertThat(FusionTuner.choose(points, 0)).isEqualTo(best);
    // 0.001: mid (0.7688 >= 0.7683) ties with best and is cheaper; cheap (0.7680) does not tie
    assertThat(FusionTuner.choose(points, 0.001)).isEqualTo(mid);
    assertThat(FusionTuner.choose(points, 0.002)).isEqualTo(cheap);
    // equal cost: the higher objective
    assertThat(FusionTuner.choose(List.of(p(8, 100, 0.70, 10, true), p(8, 100, 0.7005, 10, true)), 0.001).smoothed())
        .isEqualTo(0.7005);
    assertThat(FusionTuner.choose(List.of(over), 0.001)).isNull();
  }
}
