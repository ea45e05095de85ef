package io.quarry.core.eval;

/**
 * One retrieved chunk: its id, the id of the document it was cut from, and its score (higher is better; inner
 * product or negated squared L2 distance for dense stages, BM25 or RRF score for the others).
 */
public record ChunkHit(String chunkId, String docId, double score) implements java.io.Serializable {}
