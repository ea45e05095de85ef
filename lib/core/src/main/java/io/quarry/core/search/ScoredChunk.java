package io.quarry.core.search;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A chunk of an index version identified by shard and shard-local id, with a stage score (higher is better).
 *
 * @param shard shard id
 * @param id shard-local chunk id
 * @param score the stage's score
 */
public record ScoredChunk(int shard, int id, float score) {
  /** Key identifying the chunk across stages: {@code shard << 32 | id}. */
  public long key() {
    return ((long) shard << 32) | (id & 0xffffffffL);
  }

  /** Orders by score descending, then shard and id ascending (deterministic ties). */
  public static final Comparator<ScoredChunk> BY_SCORE =
      Comparator.comparingDouble((ScoredChunk c) -> -c.score())
          .thenComparingInt(ScoredChunk::shard)
          .thenComparingInt(ScoredChunk::id);

  /**
   * {@code top} followed by {@code tail} (both sorted by descending score, on possibly different scales: e.g. exact
   * inner products then ADC scores, or cross-encoder logits then fused scores), with the tail's scores shifted by
   * one constant when needed so that every tail score is below the last top score: the list's scores never increase,
   * so anything that re-sorts hits by score (a TREC run, a per-document max) keeps this order. The stage scores
   * recorded per hit are not shifted.
   */
  public static List<ScoredChunk> appendBelow(List<ScoredChunk> top, List<ScoredChunk> tail) {
    List<ScoredChunk> out = new ArrayList<>(top.size() + tail.size());
    out.addAll(top);
    if (top.isEmpty() || tail.isEmpty() || tail.get(0).score() < top.get(top.size() - 1).score()) {
      out.addAll(tail);
      return out;
    }
    float last = top.get(top.size() - 1).score();
    float first = tail.get(0).score();
    // in double, with a margin of 2 float ulps so the first tail score still rounds to below `last`
    double shift = (double) last - first - 2 * Math.ulp(Math.max(Math.abs(last), Math.abs(first)));
    for (ScoredChunk c : tail) {
      out.add(new ScoredChunk(c.shard(), c.id(), (float) (c.score() + shift)));
    }
    return out;
  }
}
