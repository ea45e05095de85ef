package io.quarry.core.quant.ivf;

import java.nio.ByteBuffer;
import java.nio.IntBuffer;

/**
 * Storage of IVF inverted lists: for each list {@code l} in {@code [0, nlist)}, {@code size(l)} entries, each an
 * int id and a {@code codeSize()}-byte PQ code. Implemented in memory (tests, benchmarks) and over memory-mapped
 * segment files (serving). Separates codes (storage) from the trained model (codebooks), as FAISS and jvector do.
 */
public interface InvertedLists {
  /** Number of lists (IVF {@code nlist}). */
  int nlist();

  /** Bytes per code ({@code M} for {@code nbits = 8}). */
  int codeSize();

  /** Number of entries in list {@code list}. */
  int size(int list);

  /** The codes of list {@code list}: {@code size(list) × codeSize()} bytes, row-major, position 0. */
  ByteBuffer codes(int list);

  /** The ids of list {@code list}: {@code size(list)} ints, in the same order as the codes, position 0. */
  IntBuffer ids(int list);

  /**
   * The codes of list {@code list} in the blocked layout of the quantized-table scan ({@link BlockedCodes}), or null
   * when this storage does not provide it (the searcher then scans the row-major {@link #codes}). Implementations
   * build it once per list and cache it ({@link BlockedCodes.Cache}); only meaningful for 8-bit codes.
   */
  default BlockedCodes blockedCodes(int list) {
    return null;
  }
}
