package io.quarry.core.quant;

/**
 * One search hit: a vector id and its score, higher is better ({@link DistanceMetric#IP}: inner product;
 * {@link DistanceMetric#L2}: negated squared L2 distance).
 *
 * @param id the id stored in the inverted lists
 * @param score the (approximate, for PQ) similarity
 */
public record Neighbor(int id, float score) {}
