package io.quarry.core.quant.ivf;

import java.nio.ByteBuffer;
import java.nio.IntBuffer;

/**
 * The asymmetric-distance (ADC) inner loop of {@link IvfPqSearcher} (Jégou et al., "Product Quantization for Nearest
 * Neighbor Search", TPAMI 2011, section 4): for every entry {@code i} of one inverted list with sub-codes
 * {@code c_{i,0} … c_{i,M−1}}, {@code score_i = base + sign × Σ_j table[j·ksub + c_{i,j}]}, offered to a {@link TopK}.
 * The one scan of Quarry (IP, L2 with the precomputed or per-list tables).
 *
 * <p>Layout and loop, per list:
 *
 * <ul>
 *   <li>{@code table} is {@code M × ksub} floats, row-major: the {@code ksub} entries of sub-quantizer {@code j} are
 *       contiguous ({@link io.quarry.core.quant.component.ProductQuantizer#innerProductTable} / {@link io.quarry.core.quant.component.ProductQuantizer#l2Table}, or the
 *       precomputed L2 table combined with the query's inner-product table).
 *   <li>Codes copied or unpacked to one byte per sub-code, sums computed for 4 codes at a time (4 independent
 *       accumulators), unrolled 4 sub-quantizers per step.
 *   <li>Each code's sum is accumulated in sub-quantizer order {@code j = 0, 1, …, M−1} starting from {@code 0f}, so
 *       every score is <b>bit-identical</b> to the straightforward loop {@code s = 0; for j: s += table[j·ksub +
 *       c_j]} and then {@code base + sign × s} ({@code IvfPqSearcherAdcTest}). {@link LutScan}, the scan of
 *       inner-product 8-bit PQ on the Vector API, scores its candidates with the same {@link #sums}.
 *   <li>Selection: a candidate is offered to the heap only when {@code !(score < threshold)} (the heap's current
 *       minimum, {@code −∞} while it is not full), so most entries cost one comparison; {@link TopK}'s total order
 *       (score desc, id asc) decides ties and the result does not depend on scan order.
 * </ul>
 *
 * Not thread-safe: one instance per search call.
 */
final class AdcScan {
  /** Codes scanned together (independent accumulators). */
  static final int CODES_PER_STEP = 4;

  private final int m;
  private final int nbits;
  private final int ksub;
  private final int codeSize;
  private byte[] packed = new byte[0];
  private byte[] sub = new byte[0];
  private int[] ids = new int[0];
  private float[] sums = new float[0];

  /**
   * @param m sub-quantizers {@code M}
   * @param nbits bits per sub-code, 1..8
   * @param codeSize bytes per stored code, {@code ceil(M·nbits / 8)}
   * @param capacity entries of the largest list expected (buffers grow on demand)
   */
  AdcScan(int m, int nbits, int codeSize, int capacity) {
    this.m = m;
    this.nbits = nbits;
    this.ksub = 1 << nbits;
    this.codeSize = codeSize;
    ensure(capacity);
  }

  private void ensure(int n) {
    if (ids.length >= n) {
      return;
    }
    ids = new int[n];
    sums = new float[n];
    sub = new byte[n * m];
    packed = nbits == 8 ? sub : new byte[n * codeSize];
  }

  /**
   * Scans one list and offers {@code (id_i, base + sign × Σ_j table[j·ksub + c_{i,j}])} to {@code top}.
   *
   * @param codes {@code n × codeSize} bytes, position 0 (not modified: absolute bulk get)
   * @param idBuf {@code n} ids, position 0
   * @param n entries
   * @param table {@code M × ksub} floats
   * @param base added to every sum (the coarse term {@code <xt, c_list>} for IP, 0 for L2)
   * @param sign {@code 1} (IP) or {@code −1} (L2: negated squared distance)
   */
  void scanList(ByteBuffer codes, IntBuffer idBuf, int n, float[] table, float base, float sign, TopK top) {
    if (n == 0) {
      return;
    }
    ensure(n);
    idBuf.get(0, ids, 0, n);
    codes.get(0, packed, 0, n * codeSize);
    if (nbits != 8) {
      unpack(packed, n, sub);
    }
    sums(sub, 0, n, m, ksub, table, sums);
    float[] s = sums;
    int[] id = ids;
    float thr = top.threshold();
    for (int i = 0; i < n; i++) {
      float score = base + sign * s[i];
      if (!(score < thr)) {
        top.offer(id[i], score);
        thr = top.threshold();
      }
    }
  }

  /** One byte per sub-code: {@code out[i·M + j]} = sub-code {@code j} of code {@code i} (bit order of {@link io.quarry.core.quant.component.PqCodes}). */
  private void unpack(byte[] in, int n, byte[] out) {
    if (nbits == 4) {
      int pairs = m >>> 1;
      for (int i = 0; i < n; i++) {
        int src = i * codeSize;
        int dst = i * m;
        for (int p = 0; p < pairs; p++) {
          int b = in[src + p];
          out[dst + 2 * p] = (byte) (b & 15);
          out[dst + 2 * p + 1] = (byte) ((b >>> 4) & 15);
        }
        if ((m & 1) != 0) {
          out[dst + m - 1] = (byte) (in[src + pairs] & 15);
        }
      }
      return;
    }
    int mask = ksub - 1;
    for (int i = 0; i < n; i++) {
      int src = i * codeSize;
      int dst = i * m;
      int acc = 0;
      int bits = 0;
      for (int j = 0; j < m; j++) {
        if (bits < nbits) {
          acc |= (in[src++] & 0xFF) << bits;
          bits += 8;
        }
        out[dst + j] = (byte) (acc & mask);
        acc >>>= nbits;
        bits -= nbits;
      }
    }
  }

  /**
   * {@code out[i] = Σ_{j=0..M−1} table[j·ksub + (c[i·M + j] & 0xFF)]} for {@code from ≤ i < n}, accumulated from
   * {@code 0f} in {@code j} order for every {@code i}.
   *
   * @param c {@code n × M} sub-codes, one byte each
   * @param table {@code M × ksub} floats
   */
  static void sums(byte[] c, int from, int n, int m, int ksub, float[] table, float[] out) {
    int m4 = m & ~3;
    int i = from;
    for (; i + CODES_PER_STEP <= n; i += CODES_PER_STEP) {
      int o0 = i * m;
      int o1 = o0 + m;
      int o2 = o1 + m;
      int o3 = o2 + m;
      float s0 = 0f;
      float s1 = 0f;
      float s2 = 0f;
      float s3 = 0f;
      int j = 0;
      int t = 0;
      for (; j < m4; j += 4, t += 4 * ksub) {
        int ta = t;
        int tb = t + ksub;
        int tc = tb + ksub;
        int td = tc + ksub;
        s0 += table[ta + (c[o0 + j] & 0xFF)];
        s1 += table[ta + (c[o1 + j] & 0xFF)];
        s2 += table[ta + (c[o2 + j] & 0xFF)];
        s3 += table[ta + (c[o3 + j] & 0xFF)];
        s0 += table[tb + (c[o0 + j + 1] & 0xFF)];
        s1 += table[tb + (c[o1 + j + 1] & 0xFF)];
        s2 += table[tb + (c[o2 + j + 1] & 0xFF)];
        s3 += table[tb + (c[o3 + j + 1] & 0xFF)];
        s0 += table[tc + (c[o0 + j + 2] & 0xFF)];
        s1 += table[tc + (c[o1 + j + 2] & 0xFF)];
        s2 += table[tc + (c[o2 + j + 2] & 0xFF)];
        s3 += table[tc + (c[o3 + j + 2] & 0xFF)];
        s0 += table[td + (c[o0 + j + 3] & 0xFF)];
        s1 += table[td + (c[o1 + j + 3] & 0xFF)];
        s2 += table[td + (c[o2 + j + 3] & 0xFF)];
        s3 += table[td + (c[o3 + j + 3] & 0xFF)];
      }
      for (; j < m; j++, t += ksub) {
        s0 += table[t + (c[o0 + j] & 0xFF)];
        s1 += table[t + (c[o1 + j] & 0xFF)];
        s2 += table[t + (c[o2 + j] & 0xFF)];
        s3 += table[t + (c[o3 + j] & 0xFF)];
      }
      out[i] = s0;
      out[i + 1] = s1;
      out[i + 2] = s2;
      out[i + 3] = s3;
    }
    for (; i < n; i++) {
      int o = i * m;
      float s = 0f;
      for (int j = 0, t = 0; j < m; j++, t += ksub) {
        s += table[t + (c[o + j] & 0xFF)];
      }
      out[i] = s;
    }
  }
}
