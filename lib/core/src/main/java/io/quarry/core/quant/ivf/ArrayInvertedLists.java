package io.quarry.core.quant.ivf;

import io.quarry.core.quant.QuantizerModel;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;

/**
 * In-memory {@link InvertedLists} for tests, benchmarks and small indexes: per list a growable byte array of codes
 * ({@code size × codeSize}, row-major) and an int array of ids. Not thread-safe while adding; safe to read
 * concurrently once filled. The blocked layout of a list ({@link #blockedCodes}) is built on its first search after a
 * change.
 */
public final class ArrayInvertedLists implements InvertedLists {
  private final int nlist;
  private final int codeSize;
  private final byte[][] codes;
  private final int[][] ids;
  private final int[] sizes;
  private final BlockedCodes.Cache blocked;

  /**
   * @param nlist number of lists, ≥ 1
   * @param codeSize bytes per code, ≥ 1
   */
  public ArrayInvertedLists(int nlist, int codeSize) {
    if (nlist < 1 || codeSize < 1) {
      throw new IllegalArgumentException("nlist and codeSize must be >= 1, got " + nlist + ", " + codeSize);
    }
    this.nlist = nlist;
    this.codeSize = codeSize;
    this.codes = new byte[nlist][codeSize * 4];
    this.ids = new int[nlist][4];
    this.sizes = new int[nlist];
    this.blocked = new BlockedCodes.Cache(nlist);
  }

  /** Appends one entry; {@code codeSize} bytes are copied from {@code code} at {@code offset}. */
  public void add(int list, int id, byte[] code, int offset) {
    if (list < 0 || list >= nlist) {
      throw new IllegalArgumentException("list id " + list + " out of range [0, " + nlist + ")");
    }
    int n = sizes[list];
    if (n == ids[list].length) {
      ids[list] = Arrays.copyOf(ids[list], n * 2);
      codes[list] = Arrays.copyOf(codes[list], n * 2 * codeSize);
    }
    ids[list][n] = id;
    System.arraycopy(code, offset, codes[list], n * codeSize, codeSize);
    sizes[list] = n + 1;
    blocked.invalidate(list);
  }

  /** Encodes raw vector {@code x} with {@code model} and appends it under {@code id}. Returns its list. */
  public int add(QuantizerModel model, int id, float[] x) {
    QuantizerModel.Encoded e = model.encodeVector(x);
    add(e.list(), id, e.code(), 0);
    return e.list();
  }

  /** Builds lists holding {@code n × d} raw vectors {@code xs} (row-major) with ids {@code 0..n-1}. */
  public static ArrayInvertedLists build(QuantizerModel model, float[] xs, int n) {
    int d = model.dim();
    if ((long) n * d != xs.length) {
      throw new IllegalArgumentException("expected " + n + " × " + d + " floats, got " + xs.length);
    }
    ArrayInvertedLists lists = new ArrayInvertedLists(model.nlist(), model.codeSize());
    QuantizerModel.EncodedBatch b = model.encodeBatch(xs, n);
    for (int i = 0; i < n; i++) {
      lists.add(b.lists()[i], i, b.codes(), i * model.codeSize());
    }
    return lists;
  }

  @Override
  public int nlist() {
    return nlist;
  }

  @Override
  public int codeSize() {
    return codeSize;
  }

  @Override
  public int size(int list) {
    return sizes[list];
  }

  @Override
  public ByteBuffer codes(int list) {
    return ByteBuffer.wrap(codes[list], 0, sizes[list] * codeSize).slice();
  }

  @Override
  public IntBuffer ids(int list) {
    return IntBuffer.wrap(ids[list], 0, sizes[list]).slice();
  }

  @Override
  public BlockedCodes blockedCodes(int list) {
    return blocked.get(this, list);
  }

  /** Total number of entries. */
  public long totalSize() {
    long t = 0;
    for (int s : sizes) {
      t += s;
    }
    return t;
  }
}
