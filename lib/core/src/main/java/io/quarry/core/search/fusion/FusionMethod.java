package io.quarry.core.search.fusion;

import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * A fusion method's descriptor, registered by name in {@link FusionMethods}: what parses its text form, what the
 * tuner enumerates for it, and its one-line documentation. Each {@link Fusion} class declares its own as {@code
 * METHOD}.
 *
 * @param name the text form's head, e.g. {@code rrf}; also the {@code tuning.strategies} value
 * @param example a text form with every parameter, e.g. {@code wrrf:k=60,alpha=0.7}
 * @param summary what it computes, one line (formula and source)
 * @param takesK whether it has the RRF constant {@code k} (grid axis {@code tuning.rrfKs})
 * @param takesAlpha whether it has the dense weight {@code alpha} (grid axis {@code tuning.alphas})
 * @param normalizations the normalizations it accepts (grid axis {@code tuning.normalizations}); empty: none
 * @param parser the fusion of a parsed text form (omitted parameters take the method's defaults)
 * @param grid the fusions the tuner tries, in curve order (family by family, along the axis)
 */
public record FusionMethod(String name, String example, String summary, boolean takesK, boolean takesAlpha,
    Set<Normalization> normalizations, Function<FusionParams, Fusion> parser, Function<Grid, List<Fusion>> grid) {

  /** The tuning grid's axes ({@code tuning.rrfKs}, {@code tuning.alphas}, {@code tuning.normalizations}). */
  public record Grid(List<Integer> rrfKs, List<Double> alphas, List<Normalization> normalizations) {
    public Grid {
      rrfKs = List.copyOf(rrfKs);
      alphas = List.copyOf(alphas);
      normalizations = List.copyOf(normalizations);
    }
  }

  public FusionMethod {
    normalizations = Set.copyOf(normalizations);
  }

  /** Whether it takes a normalization. */
  public boolean takesNormalization() {
    return !normalizations.isEmpty();
  }

  /** The normalizations of {@code g} this method accepts, in the grid's order. */
  public List<Normalization> normalizationsOf(Grid g) {
    return g.normalizations().stream().filter(normalizations::contains).toList();
  }
}
