/**
 * Query-time search over an index version: {@link io.quarry.core.search.DenseSearcher} (IVF-PQ ADC across shards,
 * Jégou et al., TPAMI 2011), {@link io.quarry.core.search.Rrf} (reciprocal rank fusion, Cormack et al., SIGIR 2009)
 * and {@link io.quarry.core.search.HybridSearcher}, the one multi-stage search used by the serving jar and the
 * evaluation job. The lexical stage is the {@link io.quarry.core.search.LexicalSearcher} interface, implemented with
 * Lucene in {@code lib/lexical}.
 */
package io.quarry.core.search;
