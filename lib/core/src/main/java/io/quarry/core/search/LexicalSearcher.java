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

  /**
   * BM25 scores of given chunks for a free-text query, whether or not they are in the top-n (0 for a chunk matching
   * no query term); a chunk's score equals the one {@link #search} gives it.
   *
   * @return one score per chunk, in the order of {@code chunks}
   * @throws IOException on an index read error
   */
  float[] score(String query, List<ScoredChunk> chunks) throws IOException;

  /** The stored text of a chunk, or null if not stored. */
  String text(int shard, int id) throws IOException;
}
