package io.quarry.core.quant.ivf;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API ({@code jdk.incubator.vector}) kernels of {@link LutScan} and {@link QuantizedLut}. Loaded only when
 * {@link io.quarry.core.quant.kernel.Simd#ENABLED}.
 *
 * <p>The bound kernel ({@link #bounds}) is a table lookup by byte permutation, the technique of FAISS's fast-scan
 * (André, Kermarrec, Le Scouarnec, "Cache locality is not enough: high-performance nearest neighbor search with
 * product quantization fast scan", VLDB 2015), applied to 8-bit sub-codes: a 256-entry row of the quantized table is
 * held in {@code 256 / L} byte vectors of {@code L} lanes (4 with AVX-512, 8 with AVX2); a vector of {@code L}
 * sub-codes selects from each piece by its low {@code log2 L} bits ({@code rearrange}: {@code vpermb} with AVX-512
 * VBMI) and the high bits pick the piece (blends). The looked-up bytes are summed in 16-bit lanes: the even-numbered
 * codes of a vector in the low byte of each 16-bit lane, the odd-numbered in the high byte, as FAISS accumulates.
 */
final class LutScanKernels {
  private LutScanKernels() {}

  static final VectorSpecies<Byte> BS = ByteVector.SPECIES_PREFERRED;
  static final VectorSpecies<Short> SS = ShortVector.SPECIES_PREFERRED;
  static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
  static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
  /** Byte lanes {@code L} (64 with AVX-512, 32 with AVX2). */
  static final int L = BS.length();
  private static final int SHIFT = Integer.numberOfTrailingZeros(L);
  /** Pieces of a 256-entry table row: 4 or 8. */
  private static final int PIECES = 256 / L;
  private static final int HALF = L / 2;

  /** True when the bound kernel can run: 32 or 64 byte lanes, 16-bit lanes of half as many. */
  static boolean supported() {
    return (L == 32 || L == 64) && BlockedCodes.BLOCK % L == 0 && SS.length() == HALF && FS.length() >= 8
        && 256 % FS.length() == 0 && BlockedCodes.BLOCK % IS.length() == 0;
  }

  /**
   * The code (0..63 in its block) whose bound {@link #bounds} writes to slot {@code s} of a block: slots {@code
   * [h·L, h·L + L/2)} hold the even codes {@code h·L + 2r} of vector {@code h}, slots {@code [h·L + L/2, (h + 1)·L)}
   * its odd codes {@code h·L + 2r + 1}.
   */
  static int codeOfSlot(int s) {
    int h = s >>> SHIFT;
    int r = s & (L - 1);
    return h * L + (r < HALF ? 2 * r : 2 * (r - HALF) + 1);
  }

  /** Per row {@code j} of an {@code M × 256} table: its minimum and maximum (NaN rows give NaN or ±∞). */
  static void minMax(float[] table, int m, float[] mins, float[] maxs) {
    int fl = FS.length();
    for (int j = 0; j < m; j++) {
      int o = j * 256;
      FloatVector lo = FloatVector.fromArray(FS, table, o);
      FloatVector hi = lo;
      for (int c = fl; c < 256; c += fl) {
        FloatVector v = FloatVector.fromArray(FS, table, o + c);
        lo = lo.min(v);
        hi = hi.max(v);
      }
      mins[j] = lo.reduceLanes(VectorOperators.MIN);
      maxs[j] = hi.reduceLanes(VectorOperators.MAX);
    }
  }

  /**
   * {@code q[j·256 + c] = round((T[j·256 + c] − mins[j]) × scale)}, half to even, for values in {@code [0, 255]}:
   * adding {@code 1.5·2^23} leaves the rounded integer in the low mantissa bits (the float's ulp there is 1), read back
   * through the raw bits (via an {@code M × 256} int scratch array). The Vector API's float-to-int conversion measured
   * about 7× slower than this on JDK 17 (47 against 6.5 µs for a 48 × 256 table).
   */
  static void quantize(float[] table, int m, float[] mins, float scale, byte[] q) {
    int fl = FS.length();
    int[] tmp = new int[m * 256];
    for (int j = 0; j < m; j++) {
      int o = j * 256;
      float lo = mins[j];
      for (int c = 0; c < 256; c += fl) {
        FloatVector.fromArray(FS, table, o + c).sub(lo).mul(scale).min(255f).add(0x1.8p23f)
            .reinterpretAsInts().intoArray(tmp, o + c);
      }
    }
    for (int i = 0; i < tmp.length; i++) {
      q[i] = (byte) tmp[i];
    }
  }

  /**
   * The quantized sums {@code Q} of every code of one list, 64 slots per block ({@link #codeOfSlot}):
   * {@code out[outOff + b·64 + s] = Σ_j lut[j·256 + c_j]} of code {@code codeOfSlot(s)} of block {@code b}, for
   * {@code b < blocks} (padding slots included; the caller masks them).
   *
   * @param codes {@link BlockedCodes#data()} of the list ({@code blocks × M × 64} bytes)
   * @param lut {@link QuantizedLut#codes()} ({@code M × 256} unsigned bytes)
   * @param out {@code blocks × 64} shorts from {@code outOff}
   */
  static void bounds(byte[] codes, int blocks, int m, byte[] lut, short[] out, int outOff) {
    final int block = BlockedCodes.BLOCK;
    for (int b = 0; b < blocks; b++) {
      for (int h = 0; h < block; h += L) {
        ShortVector even = ShortVector.zero(SS);
        ShortVector odd = ShortVector.zero(SS);
        int off = b * m * block + h;
        for (int j = 0, t = 0; j < m; j++, off += block, t += 256) {
          ByteVector c = ByteVector.fromArray(BS, codes, off);
          VectorShuffle<Byte> low = c.and((byte) (L - 1)).toShuffle();
          // the sub-code's bits above log2 L pick the piece: a tree of blends, one mask per bit
          VectorMask<Byte> b0 = c.and((byte) L).compare(VectorOperators.NE, (byte) 0);
          VectorMask<Byte> b1 = c.and((byte) (2 * L)).compare(VectorOperators.NE, (byte) 0);
          ByteVector r01 = piece(lut, t, 0, low).blend(piece(lut, t, 1, low), b0);
          ByteVector r23 = piece(lut, t, 2, low).blend(piece(lut, t, 3, low), b0);
          ByteVector r = r01.blend(r23, b1);
          if (PIECES == 8) {
            ByteVector r45 = piece(lut, t, 4, low).blend(piece(lut, t, 5, low), b0);
            ByteVector r67 = piece(lut, t, 6, low).blend(piece(lut, t, 7, low), b0);
            r = r.blend(r45.blend(r67, b1), c.compare(VectorOperators.LT, (byte) 0));
          }
          ShortVector w = r.reinterpretAsShorts();
          even = even.add(w.and((short) 0xFF));
          odd = odd.add(w.lanewise(VectorOperators.LSHR, 8));
        }
        even.intoArray(out, outOff + b * block + h);
        odd.intoArray(out, outOff + b * block + h + HALF);
      }
    }
  }

  /** One of the {@code 256 / L} pieces of row {@code t} of the quantized table, looked up by {@code low}. */
  private static ByteVector piece(byte[] lut, int t, int p, VectorShuffle<Byte> low) {
    return ByteVector.fromArray(BS, lut, t + p * L).rearrange(low);
  }

  /**
   * How many of {@code keys[from, to)} are {@code ≥ t} ({@code to − from} a multiple of 64), counting stops at the
   * first block of 64 that reaches {@code limit}.
   */
  static int countAtLeast(int[] keys, int from, int to, int t, int limit) {
    int c = 0;
    int il = IS.length();
    for (int b = from; b < to && c < limit; b += BlockedCodes.BLOCK) {
      for (int i = b; i < b + BlockedCodes.BLOCK; i += il) {
        c += IntVector.fromArray(IS, keys, i).compare(VectorOperators.GE, t).trueCount();
      }
    }
    return c;
  }

  /**
   * Writes to {@code out} the indices {@code s} of {@code keys[from, to)} with {@code keys[s] ≥ t}, in order, and
   * returns how many ({@code to − from} a multiple of 64). Vectors without one are skipped with one comparison.
   */
  static int atLeast(int[] keys, int from, int to, int t, int[] out) {
    int c = 0;
    int il = IS.length();
    for (int i = from; i < to; i += il) {
      if (IntVector.fromArray(IS, keys, i).compare(VectorOperators.GE, t).anyTrue()) {
        for (int s = i; s < i + il; s++) {
          if (keys[s] >= t) {
            out[c++] = s;
          }
        }
      }
    }
    return c;
  }
}
