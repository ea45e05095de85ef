package io.quarry.core.search;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;

/**
 * The lexical (BM25) stage over all shards of an index version. Implemented in {@code lib/lexical} with Lucene, so
 * that {@code lib/core} stays free of Lucene.
 */
public interface LexicalSearcher extends Closeable {
  /**
   * Top-{@code n} chunks for a free-text query, by BM25 score descending (ties by shard, id).
   *
   * @throws IOException on an index read error
   */
  List<ScoredChunk> search(String query, int n) throws IOException;

  /** The stored text of a chunk, or null if not stored. */
  String text(int shard, int id) throws IOException;
}
