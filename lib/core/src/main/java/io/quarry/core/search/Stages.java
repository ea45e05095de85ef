package io.quarry.core.search;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one stage vocabulary of Quarry (docs/architecture.md, "Stage vocabulary"): the names of evaluation stages
 * ({@code metrics.json}, reports, leaderboards), serving modes, the per-hit score keys of a search and the stage
 * labels of the timings and Prometheus metrics.
 *
 * <ul>
 *   <li>{@value #BM25}: Lucene BM25;
 *   <li>{@value #IVFPQ}: ADC over the IVF-PQ codes, the approximate dense score;
 *   <li>{@value #EXACT}: brute-force float dense scores over all chunks, the quality ceiling (evaluation only);
 *   <li>{@value #RESCORE}: {@code ivfpq} candidates re-scored with the vectors the index stores
 *       ({@code quantizer.rescore}: float32, or sq8 — then close to, not equal to, the exact score);
 *   <li>{@value #HYBRID}: fusion of the BM25 and the dense signals of the union of their candidates;
 *   <li>{@value #CROSS_ENCODER}: a cross-encoder over the top of the previous stage.
 * </ul>
 *
 * <p>Names of earlier versions ({@link #DEPRECATED}) are still accepted where a user writes a stage (config,
 * request {@code mode}) and where Quarry reads its own older outputs ({@code metrics.json}); {@link #canonical}
 * maps them and logs one deprecation warning per old name and place.
 */
public final class Stages {
  public static final String BM25 = "bm25";
  public static final String IVFPQ = "ivfpq";
  public static final String EXACT = "exact";
  public static final String RESCORE = "rescore";
  public static final String HYBRID = "hybrid";
  public static final String CROSS_ENCODER = "cross-encoder";

  /** Every stage, in pipeline order. */
  public static final List<String> ALL = List.of(BM25, EXACT, IVFPQ, RESCORE, HYBRID, CROSS_ENCODER);

  /**
   * Old evaluation stage names to the current ones ({@code dense-exact} and {@code dense-ivfpq} until issue 24).
   * The old serving mode {@code dense} is {@link SearchOptions.Mode#parse}'s.
   */
  public static final Map<String, String> DEPRECATED = Map.of("dense-exact", EXACT, "dense-ivfpq", IVFPQ);

  private static final Logger LOG = LoggerFactory.getLogger(Stages.class);
  private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

  private Stages() {}

  /** {@code name} with an old spelling mapped to the current one, silently (reading an older output). */
  public static String canonical(String name) {
    return name == null ? null : DEPRECATED.getOrDefault(name, name);
  }

  /**
   * {@code name} with an old spelling mapped to the current one; the first time an old name is seen at {@code where}
   * (e.g. {@code evaluation.stages}), logs a deprecation warning.
   */
  public static String canonical(String name, String where) {
    String c = canonical(name);
    if (c != null && !c.equals(name)) {
      deprecated(where, name, c);
    }
    return c;
  }

  /** Logs, once per JVM for this place and old name, that {@code old} is deprecated in favour of {@code now}. */
  public static void deprecated(String where, String old, String now) {
    if (WARNED.add(where + ": " + old.toLowerCase(Locale.ROOT))) {
      LOG.warn("{}: '{}' is a deprecated stage name, read as '{}'; write '{}' (old names will be removed)", where,
          old, now, now);
    }
  }

  /** The deprecations warned about so far, as {@code where: old} (for tests). */
  public static Set<String> warnedSoFar() {
    return new java.util.TreeSet<>(WARNED);
  }
}
