package io.quarry.core.search;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reciprocal rank fusion: {@code score(c) = Σ_r 1 / (k + rank_r(c))} over the rankings {@code r} that contain
 * {@code c}, ranks 1-based. Cormack, Clarke and Büttcher, "Reciprocal Rank Fusion outperforms Condorcet and
 * individual Rank Learning Methods", SIGIR 2009 (k = 60).
 */
public final class Rrf {
  /** The paper's constant. */
  public static final int DEFAULT_K = 60;

  private Rrf() {}

  /**
   * Fuses rankings (each best first, scores ignored) into one ranking by RRF score; ties by shard, id.
   *
   * @param k the RRF constant, {@code > 0}
   * @return every chunk of any ranking, best first, with its RRF score
   * @throws IllegalArgumentException if {@code k <= 0}
   */
  public static List<ScoredChunk> fuse(List<List<ScoredChunk>> rankings, int k) {
    if (k <= 0) {
      throw new IllegalArgumentException("RRF k must be > 0, got " + k);
    }
    Map<Long, double[]> acc = new HashMap<>();
    Map<Long, ScoredChunk> any = new HashMap<>();
    for (List<ScoredChunk> r : rankings) {
      for (int i = 0; i < r.size(); i++) {
        ScoredChunk c = r.get(i);
        acc.computeIfAbsent(c.key(), x -> new double[1])[0] += 1.0 / (k + i + 1);
        any.putIfAbsent(c.key(), c);
      }
    }
    List<ScoredChunk> out = new ArrayList<>(acc.size());
    for (Map.Entry<Long, double[]> e : acc.entrySet()) {
      ScoredChunk c = any.get(e.getKey());
      out.add(new ScoredChunk(c.shard(), c.id(), (float) e.getValue()[0]));
    }
    out.sort(ScoredChunk.BY_SCORE);
    return out;
  }
}
