/**
 * The BM25 part of an index shard with Lucene 9 (Robertson and Zaragoza, "The Probabilistic Relevance Framework:
 * BM25 and Beyond", 2009): {@link io.quarry.lexical.Bm25ShardWriter} writes one Lucene document per chunk with
 * English analysis (Porter stemming, stopwords); {@link io.quarry.lexical.Bm25Shard} and
 * {@link io.quarry.lexical.Bm25Index} search it.
 */
package io.quarry.lexical;
