package io.quarry.core.search.fusion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.quarry.core.search.FusionSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CombMNZ on a hand-computed example of three signals (two dense, one lexical). */
class CombMnzTest {
  static final double NAN = Double.NaN;

  /**
   * Items a, b, c, d. dense1 returned a, b (no score for d); dense2 returned b, c, d; bm25 returned b, d.
   * Min-max: dense1 (0.9 0.5 0.1 –) → (1, 0.5, 0, 0); dense2 (0.2 0.8 0.4 0.0) → (0.25, 1, 0.5, 0);
   * bm25 (0 6 3 12) → (0, 0.5, 0.25, 1). Sums: a 1.25, b 2.0, c 0.75, d 1.0; retrieved by 1, 3, 1, 2 signals.
   */
  static List<Signal> three() {
    return List.of(
        new Signal("dense1", Signal.Kind.DENSE, new double[] {0.9, 0.5, 0.1, NAN},
            new boolean[] {true, true, false, false}, -1),
        new Signal("dense2", Signal.Kind.DENSE, new double[] {0.2, 0.8, 0.4, 0.0},
            new boolean[] {false, true, true, true}, -1),
        new Signal("bm25", Signal.Kind.LEXICAL, new double[] {0, 6, 3, 12},
            new boolean[] {false, true, false, true}, 0));
  }

  @Test
  void sumOfNormalizedScoresTimesTheNumberOfSignalsThatRetrievedTheItem() {
    double[] f = new CombMnz(Normalization.MINMAX).fuse(three());
    assertThat(f[0]).isCloseTo(1 * 1.25, within(1e-12));
    assertThat(f[1]).isCloseTo(3 * 2.0, within(1e-12));
    assertThat(f[2]).isCloseTo(1 * 0.75, within(1e-12));
    assertThat(f[3]).isCloseTo(2 * 1.0, within(1e-12));
    // the count is what moves d above a: the plain sum (CombSUM) ranks a (1.25) above d (1.0)
    double[] sum = ConvexCombination.weightedSum(three(), new double[] {1, 1, 1}, Normalization.MINMAX);
    assertThat(sum[0]).isGreaterThan(sum[3]);
    assertThat(f[3]).isGreaterThan(f[0]);
  }

  @Test
  void theoreticalMinMaxUsesEachSignalsLowerBound() {
    // tmm: dense1 lower bound -1: (0.9 0.5 0.1) → (1, 1.5/1.9, 1.1/1.9, 0 for the missing score);
    // dense2 lower bound -1: (0.2 0.8 0.4 0) → (1.2/1.8, 1, 1.4/1.8, 1/1.8); bm25 lower bound 0 as min-max
    double[] f = new CombMnz(Normalization.TMM).fuse(three());
    assertThat(f[0]).isCloseTo(1 * (1 + 1.2 / 1.8 + 0), within(1e-12));
    assertThat(f[3]).isCloseTo(2 * (0 + 1 / 1.8 + 1), within(1e-12));
  }

  @Test
  void textFormDefaultsAndRefusals() {
    assertThat(FusionSpec.parse("combmnz")).isEqualTo(new FusionSpec(new CombMnz(Normalization.MINMAX)));
    for (String s : List.of("combmnz:minmax", "combmnz:tmm", "combmnz:tmm,level=doc")) {
      assertThat(FusionSpec.parse(s).toString()).isEqualTo(s);
    }
    assertThatThrownBy(() -> FusionSpec.parse("combmnz:zscore")).hasMessageContaining("minmax, tmm");
    assertThatThrownBy(() -> FusionSpec.parse("combmnz:alpha=0.5")).hasMessageContaining("no alpha");
    assertThatThrownBy(() -> FusionSpec.parse("combmnz:k=60")).hasMessageContaining("no k");
    assertThatThrownBy(() -> new CombMnz(Normalization.ZSCORE)).hasMessageContaining("minmax, tmm");
    // its tuning grid: one point per accepted normalization, in the grid's order
    assertThat(CombMnz.METHOD.grid().apply(new FusionMethod.Grid(List.of(60), List.of(0.5),
        List.of(Normalization.TMM, Normalization.ZSCORE, Normalization.MINMAX))))
        .containsExactly(new CombMnz(Normalization.TMM), new CombMnz(Normalization.MINMAX));
  }
}
