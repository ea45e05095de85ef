package io.quarry.core.quant.ivf;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One inverted list's 8-bit PQ codes in the layout of the quantized-table scan ({@link LutScan}): blocks of
 * {@value #BLOCK} codes, sub-quantizer-major inside a block, so that one vector load reads sub-code {@code j} of 64
 * consecutive codes. For {@code n} codes of {@code M} sub-codes:
 *
 * <pre>
 * data[(b·M + j)·64 + u] = sub-code j of code b·64 + u        b < ceil(n / 64), j < M, u < 64
 * </pre>
 *
 * The last block is padded with zero bytes (sub-code 0); the scan never reports a padding slot. The layout is the
 * in-memory transposition of the row-major codes of {@link InvertedLists#codes} (the segment format is unchanged),
 * built once per list and cached by the lists ({@link Cache}): {@code ceil(n / 64) × 64 × M} bytes, i.e. one more
 * copy of the list's codes on the heap. FAISS's fast-scan indexes ({@code IndexIVFPQFastScan}) keep their codes in
 * blocks in the same way (of 32 codes, 4-bit).
 */
public final class BlockedCodes {
  /** Codes per block. */
  public static final int BLOCK = 64;

  private final byte[] data;
  private final int n;
  private final int m;

  private BlockedCodes(byte[] data, int n, int m) {
    this.data = data;
    this.n = n;
    this.m = m;
  }

  /**
   * Transposes {@code n} row-major codes of {@code m} bytes (8-bit sub-codes) into blocks.
   *
   * @param codes {@code n × m} bytes from position 0 (read with absolute gets; not modified)
   * @throws IllegalArgumentException when {@code n < 0}, {@code m < 1} or the buffer holds fewer than {@code n × m}
   *     bytes
   */
  public static BlockedCodes of(ByteBuffer codes, int n, int m) {
    if (n < 0 || m < 1 || (long) n * m > codes.limit()) {
      throw new IllegalArgumentException("need n >= 0, m >= 1 and n × m <= " + codes.limit() + " bytes, got n = " + n
          + ", m = " + m);
    }
    byte[] rows = new byte[n * m];
    codes.get(0, rows, 0, rows.length);
    byte[] out = new byte[blocks(n) * BLOCK * m];
    for (int i = 0; i < n; i++) {
      int base = (i / BLOCK) * m * BLOCK + (i % BLOCK);
      int src = i * m;
      for (int j = 0; j < m; j++) {
        out[base + j * BLOCK] = rows[src + j];
      }
    }
    return new BlockedCodes(out, n, m);
  }

  /** Blocks needed for {@code n} codes: {@code ceil(n / 64)}. */
  static int blocks(int n) {
    return (n + BLOCK - 1) / BLOCK;
  }

  /** Codes held (without padding). */
  public int size() {
    return n;
  }

  /** Sub-codes per code ({@code M}). */
  public int m() {
    return m;
  }

  /** Sub-code {@code j} of code {@code i}, 0..255. */
  public int subCode(int i, int j) {
    return data[((i / BLOCK) * m + j) * BLOCK + (i % BLOCK)] & 0xFF;
  }

  /** Copies the {@code M} sub-codes of code {@code i} to {@code out[off, off + M)} (the row-major code). */
  public void copyCode(int i, byte[] out, int off) {
    for (int j = 0, src = (i / BLOCK) * m * BLOCK + (i % BLOCK); j < m; j++, src += BLOCK) {
      out[off + j] = data[src];
    }
  }

  /** The blocked bytes (see the class comment); shared, not to be modified. */
  byte[] data() {
    return data;
  }

  /**
   * Per-list cache of the blocked layout for an {@link InvertedLists} implementation: built on first use of a list,
   * then shared by every search (thread-safe; two threads may both build a list once, with identical results).
   */
  public static final class Cache {
    private final AtomicReferenceArray<BlockedCodes> lists;

    /** @param nlist number of lists */
    public Cache(int nlist) {
      this.lists = new AtomicReferenceArray<>(nlist);
    }

    /** The blocked codes of {@code list} of {@code owner}, built from {@code owner.codes(list)} the first time. */
    public BlockedCodes get(InvertedLists owner, int list) {
      BlockedCodes b = lists.get(list);
      if (b == null) {
        b = of(owner.codes(list), owner.size(list), owner.codeSize());
        lists.set(list, b);
      }
      return b;
    }

    /** Forgets {@code list} (its codes changed). */
    public void invalidate(int list) {
      lists.set(list, null);
    }
  }
}
