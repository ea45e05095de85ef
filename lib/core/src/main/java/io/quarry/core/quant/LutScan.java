package io.quarry.core.quant;

import java.nio.IntBuffer;

/**
 * The inner-product ADC scan of {@link IvfPqSearcher} for 8-bit PQ on the Vector API: bound with a quantized table,
 * then score exactly. Returns exactly what {@link AdcScan} returns (same ids, bit-identical scores): every candidate
 * that can reach the top {@code k} is scored with the float table, in {@code j} order, by {@link AdcScan#sums}.
 *
 * <p>Per query and shard, over the probed lists (codes in {@link BlockedCodes} layout), with the query's {@link
 * QuantizedLut} ({@code Δ}, {@code Σ min_j}, the slack {@code ε}) and a list's coarse term {@code base_l}:
 *
 * <ol>
 *   <li><b>Bounds</b> ({@link LutScanKernels#bounds}, byte-permutation lookups): {@code Q_i = Σ_j q[j][c_ij]} for
 *       every code, so that {@code |score_i − (base_l + Σmin + Δ·Q_i)| ≤ Δ·M/2 + ε}.
 *   <li><b>Threshold</b>: with integer keys {@code K_i = Q_i + o_l}, {@code o_l = floor(base_l / Δ) − 1} (so {@code
 *       Δ·K_i ≤ base_l + Δ·Q_i}), the largest {@code K*} that at least {@code k} codes reach (binary search over
 *       vector counts, {@link LutScanKernels#countAtLeast}). Those {@code k} codes score at least {@code Σmin +
 *       Δ·(K* − M/2) − ε}, so the {@code k}-th best score does too.
 *   <li><b>Candidates</b>: a code can be in the top {@code k} only if its upper bound reaches that: {@code Q_i ≥ K* −
 *       M − (base_l + 2ε) / Δ}. Only those are scored exactly and offered to the {@link TopK}; with fewer than
 *       {@code k} codes in all, every code is.
 * </ol>
 *
 * On the issue-13 setup (IVF256,PQ48x8, inner product, nprobe 16, k 100) about 2 % of the scanned codes are scored
 * exactly. Not thread-safe: one instance per search call.
 */
final class LutScan {
  /**
   * True when this scan runs: {@link Simd#ENABLED}, at least 256-bit byte vectors, and the system property {@code
   * quarry.adc.lut} is not {@code false} (the switch back to the float-only scan, for comparison or memory: the blocked
   * copies of the codes, {@link BlockedCodes}, are only built when this is true).
   */
  static final boolean AVAILABLE = Simd.ENABLED && !"false".equalsIgnoreCase(System.getProperty("quarry.adc.lut"))
      && LutScanKernels.supported();

  private final int m;
  private final int ksub;
  private short[] q = new short[0];
  private int[] candidates = new int[0];
  private byte[] sub = new byte[0];
  private float[] sums = new float[0];

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
   * @param bases {@code base_l} per probe ({@code <xt, c_l>}), same order
   * @param table the float table {@code M × 256}
   * @param lut the quantized table of {@code table}
   * @return how many codes were scored exactly, or −1, having offered nothing, when a probed non-empty list has no
   *     blocked codes or a coarse term is too far from the table's scale (the caller then scans with {@link AdcScan})
   */
  int scan(InvertedLists lists, int[] probes, float[] bases, float[] table, QuantizedLut lut, TopK top) {
    int p = probes.length;
    BlockedCodes[] blocked = new BlockedCodes[p];
    int[] slotFrom = new int[p + 1];
    long total = 0;
    double maxAbsBase = 0;
    for (int i = 0; i < p; i++) {
      int n = lists.size(probes[i]);
      if (n > 0) {
        blocked[i] = lists.blockedCodes(probes[i]);
        if (blocked[i] == null || blocked[i].size() != n || blocked[i].m() != m) {
          return -1;
        }
        total += n;
        maxAbsBase = Math.max(maxAbsBase, Math.abs(bases[i]));
      }
      slotFrom[i + 1] = slotFrom[i] + BlockedCodes.blocks(n) * BlockedCodes.BLOCK;
    }
    if (total == 0) {
      return 0;
    }
    if (q.length < slotFrom[p]) {
      q = new short[slotFrom[p]];
    }
    byte[] qlut = lut.codes();
    for (int i = 0; i < p; i++) {
      if (blocked[i] == null) {
        continue;
      }
      int n = blocked[i].size();
      int blocks = BlockedCodes.blocks(n);
      LutScanKernels.bounds(blocked[i].data(), blocks, m, qlut, q, slotFrom[i]);
      int last = slotFrom[i] + (blocks - 1) * BlockedCodes.BLOCK;
      for (int s = 0; s < BlockedCodes.BLOCK; s++) {
        if ((blocks - 1) * BlockedCodes.BLOCK + LutScanKernels.codeOfSlot(s) >= n) {
          q[last + s] = Short.MIN_VALUE; // padding: below every threshold (thresholds are clamped to ≥ 0)
        }
      }
    }
    double delta = lut.delta();
    double eps = lut.slack(maxAbsBase);
    long[] offsets = new long[p];
    for (int i = 0; i < p; i++) {
      double units = bases[i] / delta;
      if (!(Math.abs(units) < 0x1p40)) {
        return -1; // a coarse term 2^40 quantization steps away: keys would lose their integer precision
      }
      offsets[i] = (long) Math.floor(units) - 1;
    }
    int k = top.capacity();
    long kStar = total >= k ? kthLargestKey(offsets, slotFrom, blocked, k) : Long.MIN_VALUE;
    int scored = 0;
    for (int i = 0; i < p; i++) {
      if (blocked[i] == null) {
        continue;
      }
      // Q ≥ K* − M − (base_l + 2ε)/Δ, with (base_l/Δ − o_l) ∈ [1, 2) computed apart so that no large value is rounded
      double frac = bases[i] / delta - offsets[i] + 2 * eps / delta;
      int t = kStar == Long.MIN_VALUE ? 0 : clamp(Math.ceil((kStar - offsets[i]) - m - frac) - 1);
      scored += rescore(lists, probes[i], blocked[i], slotFrom[i], (short) t, bases[i], table, top);
    }
    return scored;
  }

  /** The largest {@code K} such that at least {@code k} codes have {@code Q_i + o_l ≥ K} ({@code k ≤} codes). */
  private long kthLargestKey(long[] offsets, int[] slotFrom, BlockedCodes[] blocked, int k) {
    long lo = Long.MAX_VALUE;
    long hi = Long.MIN_VALUE;
    for (int i = 0; i < offsets.length; i++) {
      if (blocked[i] != null) {
        lo = Math.min(lo, offsets[i]); // every code's key is ≥ its o_l ≥ lo: count(lo) = all codes ≥ k
        hi = Math.max(hi, offsets[i] + 255L * m + 1); // Q ≤ 255·M: count(hi) = 0 < k
      }
    }
    while (hi - lo > 1) {
      long mid = lo + (hi - lo) / 2;
      long count = 0;
      for (int i = 0; i < offsets.length && count < k; i++) {
        if (blocked[i] != null) {
          count += LutScanKernels.countAtLeast(q, slotFrom[i], slotFrom[i + 1], (short) clamp(mid - offsets[i]));
        }
      }
      if (count >= k) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** A threshold on {@code Q} as a short: at least 0 (so padding never passes), at most {@link Short#MAX_VALUE}. */
  private static int clamp(double t) {
    return (int) Math.max(0, Math.min(Short.MAX_VALUE, t));
  }

  /** Scores the codes of one list with {@code Q ≥ t} exactly (the sums of {@link AdcScan}); offers and counts them. */
  private int rescore(InvertedLists lists, int list, BlockedCodes codes, int from, short t, float base,
      float[] table, TopK top) {
    int n = codes.size();
    int slots = BlockedCodes.blocks(n) * BlockedCodes.BLOCK;
    if (candidates.length < slots) {
      candidates = new int[slots];
    }
    int c = LutScanKernels.atLeast(q, from, from + slots, t, candidates);
    for (int r = 0; r < c; r++) {
      int s = candidates[r];
      candidates[r] = (s & -BlockedCodes.BLOCK) + LutScanKernels.codeOfSlot(s & (BlockedCodes.BLOCK - 1));
    }
    if (c == 0) {
      return 0;
    }
    if (sub.length < c * m) {
      sub = new byte[Math.max(c, 64) * m];
      sums = new float[Math.max(c, 64)];
    }
    for (int r = 0; r < c; r++) {
      for (int j = 0; j < m; j++) {
        sub[r * m + j] = (byte) codes.subCode(candidates[r], j);
      }
    }
    AdcScan.sums(sub, 0, c, m, ksub, table, sums);
    IntBuffer idBuf = lists.ids(list);
    float thr = top.threshold();
    for (int r = 0; r < c; r++) {
      float score = base + 1f * sums[r];
      if (!(score < thr)) {
        top.offer(idBuf.get(candidates[r]), score);
        thr = top.threshold();
      }
    }
    return c;
  }
}
