package io.quarry.core.quant;

/**
 * Similarity used by the quantizer and search. Scores are always "higher is better": {@link #IP} scores are inner
 * products; {@link #L2} scores are negated squared Euclidean distances.
 */
public enum DistanceMetric {
  /** Inner product; on L2-normalized embeddings this equals cosine similarity. */
  IP,
  /** Squared Euclidean distance, reported negated so that higher is better. */
  L2;

  /** Parses {@code ip} / {@code l2} (case-insensitive). */
  public static DistanceMetric parse(String s) {
    return switch (s.toLowerCase(java.util.Locale.ROOT)) {
      case "ip" -> IP;
      case "l2" -> L2;
      default -> throw new IllegalArgumentException("unknown metric '" + s + "' (expected ip or l2)");
    };
  }
}
