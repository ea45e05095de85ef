package io.quarry.core.quant.train;

import java.nio.charset.StandardCharsets;

/**
 * Seeded, partition-independent sampling keys: {@code key(seed, id)} is a 64-bit hash of the record id (FNV-1a over
 * its UTF-8 bytes) mixed with the seed by the SplitMix64 finalizer (Steele et al., OOPSLA 2014). Keeping the records
 * with the smallest keys gives a uniform sample that depends only on the ids and the seed, not on how the data is
 * partitioned or ordered, so a Spark job and an in-memory run pick the same vectors.
 */
public final class SampleKeys {
  private SampleKeys() {}

  /** The sampling key of {@code id} under {@code seed}; compare keys as unsigned longs. */
  public static long key(long seed, String id) {
    long h = 0xcbf29ce484222325L;
    for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xFF;
      h *= 0x100000001b3L;
    }
    return mix(h ^ mix(seed));
  }

  /** SplitMix64 finalizer. */
  public static long mix(long z) {
    z += 0x9e3779b97f4a7c15L;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** The key as a uniform double in [0, 1). */
  public static double uniform(long key) {
    return (key >>> 11) * 0x1.0p-53;
  }
}
