package io.quarry.core.search.fusion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.config.TuningConfig;
import io.quarry.core.config.Violations;
import io.quarry.core.eval.FusionTuner;
import io.quarry.core.search.FusionSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The registry: every method's text form round-trips, and the tuner's grid and the config come from it. */
class FusionMethodsTest {
  static final FusionMethod.Grid FULL = new FusionMethod.Grid(List.of(1, 10, 60), List.of(0.0, 0.25, 0.7, 1.0),
      List.of(Normalization.values()));

  static TuningConfig tuning(List<String> strategies, List<String> norms, List<Double> alphas, List<Integer> ks) {
    return new TuningConfig("", "train.tsv", "", "nDCG@10", strategies, norms, List.of("chunk", "doc"), alphas, ks,
        List.of(100), List.of(8), 0, 0, 0.001, 10, false);
  }

  @Test
  void registeredInOrderWithUniqueNames() {
    assertThat(FusionMethods.names()).containsExactly("rrf", "wrrf", "convex", "combmnz");
    assertThat(TuningConfig.STRATEGIES).isEqualTo(FusionMethods.names());
    for (FusionMethod m : FusionMethods.all()) {
      assertThat(FusionMethods.get(m.name())).isSameAs(m);
    }
    assertThat(FusionMethods.get("borda")).isNull();
  }

  @Test
  void everyGridPointAndExampleRoundTripsThroughTheTextForm() {
    for (FusionMethod m : FusionMethods.all()) {
      FusionSpec example = FusionSpec.parse(m.example());
      assertThat(example.fusion().method()).isSameAs(m);
      assertThat(example.toString()).isEqualTo(m.example());
      List<Fusion> grid = m.grid().apply(FULL);
      assertThat(grid).as(m.name()).isNotEmpty().doesNotHaveDuplicates();
      for (Fusion f : grid) {
        assertThat(f.method()).isSameAs(m);
        assertThat(f.text()).startsWith(m.name());
        for (FusionSpec.Level l : FusionSpec.Level.values()) {
          FusionSpec s = new FusionSpec(f, l);
          assertThat(FusionSpec.parse(s.toString())).isEqualTo(s);
        }
        // the family is the text form without the axis parameter
        assertThat(f.text()).startsWith(f.family());
      }
    }
    // upper case and spaces are accepted, the canonical form is lower case
    assertThat(FusionSpec.parse(" WRRF:k=10, alpha=0.5 , level = doc").toString())
        .isEqualTo("wrrf:k=10,alpha=0.5,level=doc");
    assertThatThrownBy(() -> FusionSpec.parse("wrrf:beta=1")).hasMessageContaining("unknown parameter 'beta'");
    assertThatThrownBy(() -> FusionSpec.parse("wrrf:alpha")).hasMessageContaining("bad value for alpha");
    assertThatThrownBy(() -> FusionSpec.parse("rrf:k")).hasMessageContaining("bad value for k");
    assertThatThrownBy(() -> FusionSpec.parse("rrf:zscore")).hasMessageContaining("normalization is for convex");
  }

  @Test
  void theTunersGridIsEachListedMethodsGridAtEachLevel() {
    TuningConfig t = tuning(List.of("rrf", "convex", "combmnz"), List.of("zscore", "minmax"), List.of(0.5),
        List.of(10, 60));
    assertThat(FusionTuner.fusions(t)).extracting(FusionSpec::toString).containsExactly(
        "rrf:k=10", "rrf:k=60", "convex:zscore,alpha=0.5", "convex:minmax,alpha=0.5", "combmnz:minmax",
        "rrf:k=10,level=doc", "rrf:k=60,level=doc", "convex:zscore,alpha=0.5,level=doc",
        "convex:minmax,alpha=0.5,level=doc", "combmnz:minmax,level=doc");
  }

  @Test
  void tuningValidationAsksForTheAxesTheListedMethodsTake() {
    // convex needs alphas and a normalization, not k
    assertThat(violations(tuning(List.of("convex"), List.of("tmm"), List.of(0.5), List.of()))).isEmpty();
    assertThat(violations(tuning(List.of("convex"), List.of(), List.of(0.5), List.of())))
        .anyMatch(v -> v.contains("tuning.normalizations") && v.contains("[minmax, zscore, tmm]")
            && v.contains("convex"));
    // combmnz alone needs neither alphas nor k, but a normalization it accepts
    assertThat(violations(tuning(List.of("combmnz"), List.of("tmm"), List.of(), List.of()))).isEmpty();
    assertThat(violations(tuning(List.of("combmnz"), List.of("zscore"), List.of(), List.of())))
        .anyMatch(v -> v.contains("tuning.normalizations") && v.contains("[minmax, tmm]") && v.contains("combmnz"));
    assertThat(violations(tuning(List.of("wrrf"), List.of(), List.of(), List.of(60))))
        .anyMatch(v -> v.contains("tuning.alphas") && v.contains("wrrf"));
    assertThat(violations(tuning(List.of("rrf"), List.of(), List.of(), List.of())))
        .anyMatch(v -> v.contains("tuning.rrfKs") && v.contains("rrf"));
    assertThat(violations(tuning(List.of("borda"), List.of(), List.of(), List.of())))
        .anyMatch(v -> v.contains("unknown strategy 'borda'"));
  }

  static List<String> violations(TuningConfig t) {
    Violations v = new Violations();
    t.validate("tuning", v);
    return v.list();
  }
}
