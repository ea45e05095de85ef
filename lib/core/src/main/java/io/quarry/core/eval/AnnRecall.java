package io.quarry.core.eval;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * ANN recall@k ("k-recall@k" in the ANN-benchmarks sense): the fraction of the exact top-k neighbours (same
 * vectors, same metric) that the approximate search also returns in its top k. Measured on chunk ids, before any
 * aggregation to documents. Ties at the k-th exact score can make a perfect ANN score below 1 by a hair; the exact
 * search breaks them by chunk id.
 */
public final class AnnRecall {
  private AnnRecall() {}

  /**
   * @param approximate approximate hits, best first
   * @param exact exact hits, best first
   * @param k cutoff (&gt; 0)
   * @return |top-k(approximate) ∩ top-k(exact)| / min(k, |exact|); 1 when exact is empty
   */
  public static double at(List<ChunkHit> approximate, List<ChunkHit> exact, int k) {
    if (k <= 0) {
      throw new IllegalArgumentException("k must be > 0, got " + k);
    }
    int denom = Math.min(k, exact.size());
    if (denom == 0) {
      return 1.0;
    }
    Set<String> truth = new HashSet<>();
    for (int i = 0; i < denom; i++) {
      truth.add(exact.get(i).chunkId());
    }
    int hit = 0;
    for (int i = 0; i < Math.min(k, approximate.size()); i++) {
      if (truth.contains(approximate.get(i).chunkId())) {
        hit++;
      }
    }
    return (double) hit / denom;
  }
}
