/**
 * Query-time search over an index version, as a pipeline of stage objects behind small interfaces:
 * {@link io.quarry.core.search.Retriever} (BM25 through {@link io.quarry.core.search.LexicalSearcher}, implemented
 * with Lucene in {@code lib/lexical}; IVF-PQ ADC across shards through {@link io.quarry.core.search.DenseSearcher},
 * Jégou et al., TPAMI 2011), {@link io.quarry.core.search.ExactRescorer} (stored vectors),
 * {@link io.quarry.core.search.Candidates} (the union of any number of retrievers' candidates, every signal scored)
 * + {@link io.quarry.core.search.FusionSpec} (a method of {@code io.quarry.core.search.fusion}, e.g. RRF, weighted RRF,
 * convex combination of normalized scores) and the cross-encoder
 * ({@link io.quarry.core.search.HybridSearcher.Reranker}). {@link io.quarry.core.search.HybridSearcher} runs them for
 * the serving jar, the evaluation and the tuning alike; {@link io.quarry.core.search.SearchOptions} is the one typed
 * options object they share.
 */
package io.quarry.core.search;
