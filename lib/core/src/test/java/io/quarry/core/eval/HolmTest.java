package io.quarry.core.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class HolmTest {
  @Test
  void textbookExample() {
    // Holm–Bonferroni example (four hypotheses, α = 0.05): sorted 0.005 < 0.01 < 0.03 < 0.04 against α/4, α/3,
    // α/2, α: the first two are rejected, the procedure stops at 0.03 > 0.025. R: p.adjust(p, "holm") gives
    // 0.03 0.06 0.06 0.02.
    double[] p = {0.01, 0.04, 0.03, 0.005};
    double[] adj = Holm.adjust(p);
    assertThat(adj[0]).isCloseTo(0.03, within(1e-15));
    assertThat(adj[1]).isCloseTo(0.06, within(1e-15));
    assertThat(adj[2]).isCloseTo(0.06, within(1e-15));
    assertThat(adj[3]).isCloseTo(0.02, within(1e-15));
    assertThat(Holm.rejected(p, 0.05)).containsExactly(true, false, false, true);
    assertThat(p).containsExactly(0.01, 0.04, 0.03, 0.005); // input untouched
  }

  @Test
  void stepDownIsMonotoneCappedAndBetweenUnadjustedAndBonferroni() {
    // p.adjust(c(0.02, 0.03, 0.04), "holm") = 0.06 0.06 0.06: the running maximum carries 0.06 past 0.04
    assertThat(Holm.adjust(new double[] {0.04, 0.02, 0.03})).containsExactly(0.06, 0.06, 0.06);
    assertThat(Holm.adjust(new double[] {0.5, 0.6, 0.9})).containsExactly(1.0, 1.0, 1.0);
    assertThat(Holm.adjust(new double[] {0.2})).containsExactly(0.2); // one test: unadjusted
    assertThat(Holm.adjust(new double[0])).isEmpty();
    double[] p = {0.001, 0.2, 0.011, 0.05, 0.0125, 0.7};
    double[] adj = Holm.adjust(p);
    for (int i = 0; i < p.length; i++) {
      assertThat(adj[i]).isBetween(p[i], Math.min(1, p.length * p[i]));
    }
    // rejected at 0.05: 0.001·6, 0.011·5 = 0.055 > 0.05 stops there
    assertThat(Holm.rejected(p, 0.05)).containsExactly(true, false, false, false, false, false);
    assertThat(Holm.rejected(p, 0.06)).containsExactly(true, false, true, false, true, false);
  }

  @Test
  void rejectsInvalidInput() {
    assertThatThrownBy(() -> Holm.adjust(new double[] {0.1, Double.NaN})).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("p-value 1 is NaN");
    assertThatThrownBy(() -> Holm.adjust(new double[] {1.5})).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Holm.rejected(new double[] {0.1}, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
