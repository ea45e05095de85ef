package io.quarry.core.search;

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
  public static final java.util.Comparator<ScoredChunk> BY_SCORE =
      java.util.Comparator.comparingDouble((ScoredChunk c) -> -c.score())
          .thenComparingInt(ScoredChunk::shard)
          .thenComparingInt(ScoredChunk::id);
}
