package io.quarry.core.segment;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Shard assignment.
 *
 * <ul>
 *   <li>{@code hash}: {@code shard = CRC32(UTF-8(docId)) mod shards}; every chunk of a document lands in the same
 *       shard, and the mapping is stable across JVMs and runs.
 *   <li>{@code ivf}: shard {@code s} owns the contiguous IVF lists {@code [bounds[s], bounds[s+1])}; the bounds are
 *       chosen greedily so that each shard holds about {@code total / shards} entries. A query is routed only to the
 *       shards owning its probed lists.
 * </ul>
 */
public final class Sharding {
  private Sharding() {}

  /** Hash shard of a document id, in {@code [0, shards)}. */
  public static int hashShard(String docId, int shards) {
    CRC32 crc = new CRC32();
    crc.update(docId.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() % shards);
  }

  /**
   * Contiguous list ranges with balanced entry counts.
   *
   * @param listSizes entries per IVF list ({@code nlist} values)
   * @param shards number of shards, {@code 1 <= shards <= nlist}
   * @return {@code shards + 1} bounds, {@code bounds[0] = 0}, {@code bounds[shards] = nlist}, strictly increasing
   * @throws IllegalArgumentException if {@code shards} is out of range
   */
  public static int[] ivfBounds(long[] listSizes, int shards) {
    int nlist = listSizes.length;
    if (shards < 1 || shards > nlist) {
      throw new IllegalArgumentException("ivf sharding needs 1 <= shards <= nlist (" + nlist + "), got " + shards);
    }
    long total = 0;
    for (long s : listSizes) {
      total += s;
    }
    int[] bounds = new int[shards + 1];
    bounds[shards] = nlist;
    long acc = 0;
    int l = 0;
    for (int s = 1; s < shards; s++) {
      long target = Math.round((double) total * s / shards);
      // take lists while below the target, but leave at least one list for each remaining shard
      while (l < nlist - (shards - s) && (l < bounds[s - 1] + 1 || acc + listSizes[l] / 2 < target)) {
        acc += listSizes[l];
        l++;
      }
      bounds[s] = l;
    }
    return bounds;
  }

  /** The shard owning {@code list} under {@code bounds} (binary search). */
  public static int ivfShard(int[] bounds, int list) {
    int idx = java.util.Arrays.binarySearch(bounds, list);
    int s = idx >= 0 ? idx : -idx - 2;
    return Math.min(s, bounds.length - 2);
  }
}
