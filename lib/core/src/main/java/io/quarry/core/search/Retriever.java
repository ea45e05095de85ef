package io.quarry.core.search;

import java.io.IOException;
import java.util.List;

/** A first stage: the top candidate chunks of a query by one signal (BM25, ADC). */
public interface Retriever {
  /** Stage name, the key of its scores in {@link HybridSearcher.Hit#stages()}. */
  String name();

  /**
   * Top-{@code depth} chunks, best first (ties by shard, id).
   *
   * @param nprobe IVF lists probed (ignored by retrievers without IVF)
   * @throws IOException on an index or model read error
   */
  List<ScoredChunk> retrieve(QueryContext q, int depth, int nprobe) throws IOException;

  /** BM25 ({@link LexicalSearcher}, Lucene), stage {@code bm25}. */
  static Retriever bm25(LexicalSearcher lexical) {
    return new Retriever() {
      @Override
      public String name() {
        return HybridSearcher.BM25;
      }

      @Override
      public List<ScoredChunk> retrieve(QueryContext q, int depth, int nprobe) throws IOException {
        return lexical.search(q.text(), depth);
      }
    };
  }

  /** IVF-PQ ADC over all shards ({@link DenseSearcher}), stage {@code ivfpq}. */
  static Retriever adc(DenseSearcher dense) {
    return new Retriever() {
      @Override
      public String name() {
        return HybridSearcher.IVFPQ;
      }

      @Override
      public List<ScoredChunk> retrieve(QueryContext q, int depth, int nprobe) throws IOException {
        return dense.search(q.prepared(dense, nprobe), depth);
      }
    };
  }
}
