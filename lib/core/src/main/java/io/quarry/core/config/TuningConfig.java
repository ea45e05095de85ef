package io.quarry.core.config;

import io.quarry.core.search.fusion.FusionMethod;
import io.quarry.core.search.fusion.FusionMethods;
import io.quarry.core.search.fusion.Normalization;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * {@code quarry tune}: the grid searched on a <em>training</em> split of labeled queries to choose the hybrid
 * search's operating point (fusion × nprobe × candidate depth), written into the index version's manifest. Never
 * point it at the test qrels the evaluation reports.
 *
 * @param queries queries file ({@code ""}: {@code evaluation.queries})
 * @param qrels training (or dev) qrels; {@code ""}: no tuning ({@code tune} fails, {@code pipeline} skips it and the
 *     built-in default fusion is used)
 * @param format {@code beir} or {@code trec} ({@code ""}: {@code evaluation.format})
 * @param objective the metric maximized, e.g. {@code nDCG@10}
 * @param strategies fusion methods tried, by registered name ({@link FusionMethods}, e.g. {@code rrf}, {@code wrrf},
 *     {@code convex})
 * @param normalizations normalizations tried with the methods that take one, each method with those it accepts
 *     ({@link FusionMethod#normalizations}; {@code convex}: {@code minmax}, {@code zscore}, {@code tmm})
 * @param levels fusion levels tried with every strategy: {@code chunk} (fuse chunks, then MaxP per document),
 *     {@code doc} (MaxP of each signal per document, then fuse); see {@link io.quarry.core.search.FusionSpec.Level}
 * @param alphas dense weights tried with the methods that take one ({@code wrrf}, {@code convex}), each in [0, 1],
 *     ascending
 * @param rrfKs RRF constants tried with the methods that take one ({@code rrf}, {@code wrrf}), ascending
 * @param depths candidate chunks per first stage tried, ascending
 * @param nprobes IVF lists probed tried, ascending
 * @param maxP50Ms latency budget: only settings whose median hybrid search latency (one thread, query embedding
 *     excluded) is at most this many ms are chosen; 0: no budget
 * @param maxBytesPerQuery budget on the index bytes a query reads (probed PQ codes and ids + re-scoring vectors of
 *     the candidates); 0: no budget
 * @param tolerance points whose smoothed objective is within this of the best count as equal, and the cheapest of
 *     them (bytes read per query) is chosen; 0: strictly the best
 * @param latencyQueries queries timed per (nprobe, depth) for the latency budget
 * @param write write the choice into the version's manifest ({@code false}: report only)
 */
public record TuningConfig(
    String queries,
    String qrels,
    String format,
    String objective,
    List<String> strategies,
    List<String> normalizations,
    List<String> levels,
    List<Double> alphas,
    List<Integer> rrfKs,
    List<Integer> depths,
    List<Integer> nprobes,
    double maxP50Ms,
    long maxBytesPerQuery,
    double tolerance,
    int latencyQueries,
    boolean write)
    implements ConfigSection {

  /** The registered fusion methods' names ({@link FusionMethods}). */
  public static final Set<String> STRATEGIES = FusionMethods.names();

  public static final Set<String> NORMALIZATIONS = Collections.unmodifiableSet(new LinkedHashSet<>(
      Arrays.stream(Normalization.values()).map(Normalization::text).toList()));
  public static final Set<String> LEVELS = Set.of("chunk", "doc");

  public TuningConfig {
    strategies = strategies == null ? List.of() : List.copyOf(strategies);
    normalizations = normalizations == null ? List.of() : List.copyOf(normalizations);
    levels = levels == null ? List.of() : List.copyOf(levels);
    alphas = alphas == null ? List.of() : List.copyOf(alphas);
    rrfKs = rrfKs == null ? List.of() : List.copyOf(rrfKs);
    depths = depths == null ? List.of() : List.copyOf(depths);
    nprobes = nprobes == null ? List.of() : List.copyOf(nprobes);
  }

  /** The registered methods of {@link #strategies} (unknown names left out). */
  private List<FusionMethod> methods() {
    return strategies.stream().map(FusionMethods::get).filter(Objects::nonNull).toList();
  }

  /** The listed strategies with a property, e.g. {@code wrrf/convex}. */
  private String namesOf(Predicate<FusionMethod> p) {
    return methods().stream().filter(p).map(FusionMethod::name).collect(Collectors.joining("/"));
  }

  /** Whether training qrels are configured. */
  public boolean enabled() {
    return qrels != null && !qrels.isBlank();
  }

  @Override
  public void validate(String path, Violations v) {
    v.check(format == null || format.isBlank() || EvaluationConfig.FORMATS.contains(format), path + ".format",
        "must be empty or one of " + EvaluationConfig.FORMATS + ", got '" + format + "'");
    v.check(objective != null && objective.matches("(?i)(ndcg|recall|mrr|map|p|success)(@\\d+)?"),
        path + ".objective", "must be a metric such as nDCG@10, got '" + objective + "'");
    v.check(!strategies.isEmpty(), path + ".strategies", "must list at least one of " + STRATEGIES);
    strategies.forEach(s -> v.check(STRATEGIES.contains(s), path + ".strategies", "unknown strategy '" + s + "'"));
    normalizations.forEach(s -> v.check(NORMALIZATIONS.contains(s), path + ".normalizations",
        "unknown normalization '" + s + "'"));
    v.check(!levels.isEmpty(), path + ".levels", "must list at least one of " + LEVELS);
    levels.forEach(s -> v.check(LEVELS.contains(s), path + ".levels", "unknown level '" + s + "'"));
    for (FusionMethod m : methods()) {
      Set<String> accepted = m.normalizations().stream().sorted().map(Normalization::text)
          .collect(Collectors.toCollection(LinkedHashSet::new));
      v.check(!m.takesNormalization() || normalizations.stream().anyMatch(accepted::contains),
          path + ".normalizations", "must list at least one of " + accepted + " when strategies has " + m.name());
    }
    v.check(!alphas.isEmpty() || methods().stream().noneMatch(FusionMethod::takesAlpha), path + ".alphas",
        "must list at least one alpha for " + namesOf(FusionMethod::takesAlpha));
    alphas.forEach(a -> v.check(a != null && a >= 0 && a <= 1, path + ".alphas", "must be in [0, 1], got " + a));
    v.check(!rrfKs.isEmpty() || methods().stream().noneMatch(FusionMethod::takesK), path + ".rrfKs",
        "must list at least one k for " + namesOf(FusionMethod::takesK));
    rrfKs.forEach(k -> v.positive(k, path + ".rrfKs"));
    v.check(!depths.isEmpty(), path + ".depths", "must list at least one depth");
    depths.forEach(d -> v.positive(d, path + ".depths"));
    v.check(!nprobes.isEmpty(), path + ".nprobes", "must list at least one nprobe");
    nprobes.forEach(n -> v.positive(n, path + ".nprobes"));
    v.check(maxP50Ms >= 0, path + ".maxP50Ms", "must be >= 0 (0: no budget), got " + maxP50Ms);
    v.check(maxBytesPerQuery >= 0, path + ".maxBytesPerQuery", "must be >= 0 (0: no budget)");
    v.check(tolerance >= 0 && tolerance < 1, path + ".tolerance", "must be in [0, 1), got " + tolerance);
    v.positive(latencyQueries, path + ".latencyQueries");
  }
}
