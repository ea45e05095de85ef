package io.quarry.core.search.fusion;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The registry of fusion methods by name: the one list that the text form's parser ({@link
 * io.quarry.core.search.FusionSpec#parse}), the tuner's grid ({@code FusionTuner}) and the configuration's
 * validation ({@code tuning.strategies}) read. A new method is a {@link Fusion} class with its {@link FusionMethod}
 * and one line here.
 */
public final class FusionMethods {
  private static final Map<String, FusionMethod> BY_NAME = new LinkedHashMap<>();

  static {
    for (FusionMethod m : List.of(Rrf.METHOD, WeightedRrf.METHOD, ConvexCombination.METHOD, CombMnz.METHOD)) {
      BY_NAME.put(m.name(), m);
    }
  }

  private FusionMethods() {}

  /** The method of that name, or null. */
  public static FusionMethod get(String name) {
    return BY_NAME.get(name);
  }

  /** Every method, in registration order. */
  public static List<FusionMethod> all() {
    return List.copyOf(BY_NAME.values());
  }

  /** Every method's name, in registration order (unmodifiable). */
  public static Set<String> names() {
    return Collections.unmodifiableSet(new LinkedHashSet<>(BY_NAME.keySet()));
  }

  /** The names as a list for messages, e.g. {@code rrf, wrrf or convex}. */
  public static String namesText() {
    List<String> n = List.copyOf(BY_NAME.keySet());
    return n.size() == 1 ? n.get(0) : String.join(", ", n.subList(0, n.size() - 1)) + " or " + n.get(n.size() - 1);
  }

  /** Normalizations in text form, in declaration order, e.g. {@code minmax, tmm}. */
  static String texts(Collection<Normalization> ns) {
    return ns.stream().sorted().map(Normalization::text).collect(Collectors.joining(", "));
  }
}
