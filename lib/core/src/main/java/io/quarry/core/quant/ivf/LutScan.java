package io.quarry.core.quant.ivf;

import io.quarry.core.quant.kernel.Simd;
import java.nio.IntBuffer;

/**
 * The ADC scan of {@link IvfPqSearcher} for 8-bit PQ on the Vector API: bound with a quantized table, then score
 * exactly. Returns exactly what {@link AdcScan} returns (same ids, bit-identical scores): every code that can reach the
 * top {@code k} is scored with the float table (for L2 the list's table {@code P[l] − 2T}, built as the float scan
 * builds it), in {@code j} order, by {@link AdcScan#sums}.
 *
 * <p>A code {@code i} of list {@code l} scores, with the query's inner-product table {@code T} ({@code M × 256}),
 *
 * <ul>
 *   <li>inner product: {@code base_l + Σ_j T[j][c_ij]}, {@code base_l = <xt, c_l>};
 *   <li>L2 with the precomputed table ({@link IvfPqSearcher}): {@code base_l − Σ_j (P[l][j][c_ij] − 2 T[j][c_ij])},
 *       {@code base_l = −||xt − c_l||²}, i.e. {@code base_l − N_i + 2 Σ_j T[j][c_ij]} with the query-independent
 *       {@code N_i = Σ_j P[l][j][c_ij]} (computed once per list, {@link IvfPqSearcher}'s code terms).
 * </ul>
 *
 * Both are {@code c_i + w·Σ_j T[j][c_ij]} ({@code w} = 1 or 2, {@code c_i = base_l} or {@code base_l − N_i}). With
 * the query's {@link QuantizedLut} ({@code Δ}, {@code Σmin}, slack) and {@code Q_i = Σ_j q[j][c_ij]}: {@code
 * |score_i − (c_i + w·(Σmin + Δ·Q_i))| ≤ w·Δ·M/2 + E} ({@code E}: every float rounding, {@link #slack}). Then:
 *
 * <ol>
 *   <li><b>Bounds</b> ({@link LutScanKernels#bounds}, byte-permutation lookups): {@code Q_i} for every code.
 *   <li><b>Keys</b>: {@code K_i = Q_i + floor(c_i / (w·Δ)) − 1}, an int per code, so {@code w·Δ·K_i ≤ c_i + w·Δ·Q_i −
 *       w·Δ}.
 *   <li><b>Threshold</b>: the largest {@code K*} that at least {@code k} codes reach (binary search over vector
 *       counts, {@link LutScanKernels#countAtLeast}). Those codes score at least {@code w·(Σmin + Δ·(K* − M/2)) − E},
 *       so the {@code k}-th best score does too.
 *   <li><b>Candidates</b>: a code's score is at most {@code w·(Σmin + Δ·(K_i + 3 + M/2)) + E} (one unit more than
 *       the floor allows, for its rounding), so only codes with {@code K_i ≥ K* − M − 3 − 2E/(w·Δ)} can be in the
 *       top {@code k}: those are scored exactly and offered to the {@link TopK}; with fewer than {@code k} codes in
 *       all, every code is.
 * </ol>
 *
 * On the issue-13 setup (IVF256,PQ48x8, nprobe 16, k 100) about 2 % of the scanned codes are scored exactly. Not
 * thread-safe: one instance per search call.
 */
final class LutScan {
  /**
   * True when this scan runs: {@link Simd#ENABLED}, at least 256-bit byte vectors, and the system property {@code
   * quarry.adc.lut} is not {@code false} (the switch back to the float-only scan, for comparison or memory: the blocked
   * copies of the codes, {@link BlockedCodes}, are only built when this is true).
   */
  static final boolean AVAILABLE = Simd.ENABLED && !"false".equalsIgnoreCase(System.getProperty("quarry.adc.lut"))
      && LutScanKernels.supported();

  /**
   * {@code N_i = Σ_j P[l][j][c_ij]} for every code of a list, in the slot order of {@link LutScanKernels#bounds}
   * ({@code 0} for padding), summed in float in {@code j} order: the query-independent term of the L2 score.
   *
   * @param p the precomputed table, the list's {@code M × ksub} block at {@code po}
   */
  static float[] codeTerms(BlockedCodes codes, float[] p, int po, int ksub) {
    int n = codes.size();
    int m = codes.m();
    float[] out = new float[BlockedCodes.blocks(n) * BlockedCodes.BLOCK];
    for (int s = 0; s < out.length; s++) {
      int i = (s & -BlockedCodes.BLOCK) + LutScanKernels.codeOfSlot(s & (BlockedCodes.BLOCK - 1));
      if (i < n) {
        float sum = 0f;
        for (int j = 0; j < m; j++) {
          sum += p[po + j * ksub + codes.subCode(i, j)];
        }
        out[s] = sum;
      }
    }
    return out;
  }

  /** Keys of padding slots: below every threshold. */
  private static final int PADDING = Integer.MIN_VALUE;
  /** Keys stay within ±2^30 (the scan falls back to {@link AdcScan} beyond), so thresholds never overflow an int. */
  private static final double KEY_RANGE = 0x1p30;

  /**
   * The L2 terms of the precomputed-table form ({@link IvfPqSearcher}); null for inner product.
   *
   * @param precomputed {@code P}: {@code nlist × M × 256} floats, list {@code l}'s table at {@code l·M·256}
   * @param codeTerms per probe (same order as the probes), {@code N_i} of each code in the slot order of {@link
   *     LutScanKernels#bounds} (null for an empty list)
   * @param absSum per probe, {@code Σ_j max_c |P[l][j][c]|} (for the slack)
   */
  record L2Terms(float[] precomputed, float[][] codeTerms, float[] absSum) {}

  private final int m;
  private final int ksub;
  private short[] q = new short[0];
  private int[] keys = new int[0];
  private int[] candidates = new int[0];
  private byte[] sub = new byte[0];
  private float[] sums = new float[0];
  private float[] listTable = new float[0];

  /**
   * @param m sub-quantizers {@code M}
   * @param ksub 256
   */
  LutScan(int m, int ksub) {
    this.m = m;
    this.ksub = ksub;
  }

  /**
   * Scans the probed lists and offers the candidates to {@code top} (see the class comment).
   *
   * @param lists the shard's lists
   * @param probes lists to scan
   * @param bases {@code base_l} per probe, same order
   * @param table the inner-product table {@code T}, {@code M × 256} (the float table for inner product)
   * @param lut the quantized table of {@code T}
   * @param l2 the L2 terms, or null for inner product
   * @return how many codes were scored exactly, or −1, having offered nothing, when a probed non-empty list has no
   *     blocked codes or a score is too far from the table's scale for int keys (the caller then scans with {@link
   *     AdcScan})
   */
  int scan(InvertedLists lists, int[] probes, float[] bases, float[] table, QuantizedLut lut, L2Terms l2,
      TopK top) {
    int p = probes.length;
    BlockedCodes[] blocked = new BlockedCodes[p];
    int[] slotFrom = new int[p + 1];
    long total = 0;
    for (int i = 0; i < p; i++) {
      int n = lists.size(probes[i]);
      if (n > 0) {
        blocked[i] = lists.blockedCodes(probes[i]);
        if (blocked[i] == null || blocked[i].size() != n || blocked[i].m() != m) {
          return -1;
        }
        total += n;
      }
      slotFrom[i + 1] = slotFrom[i] + BlockedCodes.blocks(n) * BlockedCodes.BLOCK;
    }
    if (total == 0) {
      return 0;
    }
    int slots = slotFrom[p];
    if (q.length < slots) {
      q = new short[slots];
      keys = new int[slots];
      candidates = new int[slots];
    }
    for (int i = 0; i < p; i++) {
      if (blocked[i] != null) {
        LutScanKernels.bounds(blocked[i].data(), BlockedCodes.blocks(blocked[i].size()), m, lut.codes(), q,
            slotFrom[i]);
      }
    }
    int w = l2 == null ? 1 : 2;
    if (!keys(blocked, slotFrom, bases, l2, 1 / (w * lut.delta()))) {
      return -1;
    }
    int k = top.capacity();
    int t = PADDING + 1; // fewer than k codes: every code is a candidate
    if (total >= k) {
      double e = slack(lut, blocked, bases, l2);
      t = (int) Math.max(PADDING + 1, Math.ceil(kthLargestKey(slots, k) - m - 3 - 2 * e / (w * lut.delta())) - 1);
    }
    int c = LutScanKernels.atLeast(keys, 0, slots, t, candidates);
    int scored = 0;
    for (int i = 0, r = 0; i < p && r < c; i++) {
      int from = r;
      while (r < c && candidates[r] < slotFrom[i + 1]) {
        int s = candidates[r] - slotFrom[i];
        candidates[r++] = (s & -BlockedCodes.BLOCK) + LutScanKernels.codeOfSlot(s & (BlockedCodes.BLOCK - 1));
      }
      if (r > from) {
        rescore(lists, probes[i], blocked[i], from, r, bases[i], table, l2, top);
        scored += r - from;
      }
    }
    return scored;
  }

  /**
   * {@code keys[s] = Q + floor(c / (w·Δ)) − 1} for every slot ({@link #PADDING} for padding); false when a key would
   * leave ±{@link #KEY_RANGE}.
   */
  private boolean keys(BlockedCodes[] blocked, int[] slotFrom, float[] bases, L2Terms l2, double perUnit) {
    for (int i = 0; i < blocked.length; i++) {
      if (blocked[i] == null) {
        continue;
      }
      int from = slotFrom[i];
      int to = slotFrom[i + 1];
      if (l2 == null) {
        double units = bases[i] * perUnit;
        if (!(Math.abs(units) < KEY_RANGE)) {
          return false;
        }
        int o = (int) Math.floor(units) - 1;
        for (int s = from; s < to; s++) {
          keys[s] = q[s] + o;
        }
      } else {
        float[] terms = l2.codeTerms()[i];
        double base = bases[i];
        for (int s = from; s < to; s++) {
          double units = (base - terms[s - from]) * perUnit;
          if (!(Math.abs(units) < KEY_RANGE)) {
            return false;
          }
          keys[s] = q[s] + (int) Math.floor(units) - 1;
        }
      }
      int n = blocked[i].size();
      int lastBlock = (BlockedCodes.blocks(n) - 1) * BlockedCodes.BLOCK;
      for (int s = 0; s < BlockedCodes.BLOCK; s++) {
        if (lastBlock + LutScanKernels.codeOfSlot(s) >= n) {
          keys[from + lastBlock + s] = PADDING;
        }
      }
    }
    return true;
  }

  /**
   * {@code E}: how far each computed float score and each bound can be from the real values — the table's share
   * ({@link QuantizedLut#slack}, times {@code w}), and for L2 the rounding of {@code P[l] − 2T}, of the sums of that
   * table and of {@code N_i}: at most {@code (4M + 8)·2^−23·(Σ_j max|P[l][j]| + 2·Σ_j max|T[j]| + |base_l|)}, about
   * twice the textbook bound.
   */
  private double slack(QuantizedLut lut, BlockedCodes[] blocked, float[] bases, L2Terms l2) {
    double maxAbsBase = 0;
    double maxAbsP = 0;
    for (int i = 0; i < blocked.length; i++) {
      if (blocked[i] != null) {
        maxAbsBase = Math.max(maxAbsBase, Math.abs(bases[i]));
        maxAbsP = l2 == null ? 0 : Math.max(maxAbsP, l2.absSum()[i]);
      }
    }
    if (l2 == null) {
      return lut.slack(maxAbsBase);
    }
    return 2 * lut.slack(0) + (4.0 * m + 8) * 0x1p-23 * (maxAbsP + 2 * lut.absSum() + maxAbsBase);
  }

  /** The largest {@code K} that at least {@code k} of {@code keys[0, slots)} reach ({@code k ≤} codes). */
  private long kthLargestKey(int slots, int k) {
    long lo = Long.MAX_VALUE;
    long hi = Long.MIN_VALUE;
    for (int s = 0; s < slots; s++) {
      if (keys[s] != PADDING) {
        lo = Math.min(lo, keys[s]);
        hi = Math.max(hi, keys[s]);
      }
    }
    hi++; // count(lo) = every code ≥ k, count(hi) = 0 < k
    while (hi - lo > 1) {
      long mid = lo + (hi - lo) / 2;
      if (LutScanKernels.countAtLeast(keys, 0, slots, (int) mid, k) >= k) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * Scores the codes {@code candidates[from, to)} (indices in the list) of one list exactly, with the float operations
   * of {@link AdcScan}, and offers them.
   */
  private void rescore(InvertedLists lists, int list, BlockedCodes codes, int from, int to, float base, float[] table,
      L2Terms l2, TopK top) {
    int c = to - from;
    if (sub.length < c * m) {
      sub = new byte[Math.max(c, 64) * m];
      sums = new float[Math.max(c, 64)];
    }
    for (int r = 0; r < c; r++) {
      codes.copyCode(candidates[from + r], sub, r * m);
    }
    float sign;
    if (l2 == null) {
      AdcScan.sums(sub, 0, c, m, ksub, table, sums);
      sign = 1f;
    } else {
      if (listTable.length < m * ksub) {
        listTable = new float[m * ksub];
      }
      // the list's scan table P[l] − 2T, as the float scan builds it (streaming P[l] once is cheaper than reading
      // it at random for each candidate)
      IvfPqSearcher.madd(l2.precomputed(), list * m * ksub, -2f, table, listTable, 0, m * ksub);
      AdcScan.sums(sub, 0, c, m, ksub, listTable, sums);
      sign = -1f;
    }
    IntBuffer idBuf = lists.ids(list);
    float thr = top.threshold();
    for (int r = 0; r < c; r++) {
      float score = base + sign * sums[r];
      if (!(score < thr)) {
        top.offer(idBuf.get(candidates[from + r]), score);
        thr = top.threshold();
      }
    }
  }
}
