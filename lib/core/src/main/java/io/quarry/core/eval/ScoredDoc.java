package io.quarry.core.eval;

/** A document in a ranking: its id and score (higher is better). */
public record ScoredDoc(String docId, double score) implements java.io.Serializable {}
