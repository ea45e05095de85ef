package io.quarry.core.quant.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API ({@code jdk.incubator.vector}, JEP 414) forms of the per-query ADC kernels: the coarse probe
 * distances, the inner-product lookup table, the per-list table of the precomputed L2 decomposition. (The ADC scan's
 * own kernels are in {@link io.quarry.core.quant.ivf.LutScanKernels}.) Loaded only when {@link Simd#ENABLED}.
 *
 * <p><b>Same bits as the scalar loops.</b> Lanes run over independent outputs (centroids, codewords, codes), and
 * every lane performs exactly the float operations of the scalar loop it replaces, in the same order, with separate
 * multiply and add (never {@code fma}): {@link #coarseDistances} = {@code L2Kernel.distances}, {@link #ipTable} =
 * {@link io.quarry.core.quant.component.ProductQuantizer#innerProductTable}'s {@code VectorMath.dot} order.
 * {@code VectorKernelsTest} checks it bit for bit.
 */
public final class VectorKernels {
  private VectorKernels() {}

  public static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
  public static final int L = FS.length();

  public static int lanes() {
    return L;
  }

  /**
   * Blocked transpose of row-major {@code k × dd} rows (centroids, codewords) for lane-parallel dot products: the
   * first {@code k − k % L} rows go to {@code out[(b·dd + t)·L + u] = c[(b·L + u)·dd + t]} (block {@code b} of
   * {@code L} rows, dimension {@code t}, lane {@code u}); the remaining rows are left to the scalar loop.
   */
  public static float[] blockTranspose(float[] c, int co, int k, int dd) {
    int blocks = k / L;
    float[] out = new float[blocks * dd * L];
    for (int b = 0; b < blocks; b++) {
      for (int u = 0; u < L; u++) {
        int src = co + (b * L + u) * dd;
        for (int t = 0; t < dd; t++) {
          out[(b * dd + t) * L + u] = c[src + t];
        }
      }
    }
    return out;
  }

  /**
   * {@code out[j] = cn[j] − 2 x·c_j} for the first {@code nlist − nlist % L} centroids ({@code L2Kernel.dot}'s order:
   * even and odd dimensions in two accumulators, summed at the end).
   *
   * @param ct {@link #blockTranspose} of the {@code nlist × d} centroids
   */
  public static void coarseDistances(float[] x, float[] ct, float[] cn, int nlist, int d, float[] out) {
    int blocks = nlist / L;
    for (int b = 0; b < blocks; b++) {
      FloatVector.fromArray(FS, cn, b * L).sub(dotBlock(x, 0, ct, b * d * L, d).mul(2f)).intoArray(out, b * L);
    }
  }

  /**
   * {@code L2Kernel.dot(c_j, x)} of one block of {@code L} block-transposed rows (the block at {@code ct[o]}, {@code
   * d} dimensions) with the {@code d}-vector at {@code x[xo]}, one lane per row: even and odd dimensions in two
   * accumulators, {@code s0 + s1} at the end, separate multiply and add — the scalar dot's operations in its order.
   */
  private static FloatVector dotBlock(float[] x, int xo, float[] ct, int o, int d) {
    FloatVector s0 = FloatVector.zero(FS);
    FloatVector s1 = FloatVector.zero(FS);
    int t = 0;
    for (; t + 1 < d; t += 2) {
      s0 = s0.add(FloatVector.fromArray(FS, ct, o + t * L).mul(x[xo + t]));
      s1 = s1.add(FloatVector.fromArray(FS, ct, o + (t + 1) * L).mul(x[xo + t + 1]));
    }
    if (t < d) {
      s0 = s0.add(FloatVector.fromArray(FS, ct, o + t * L).mul(x[xo + t]));
    }
    return s0.add(s1);
  }

  /**
   * The nearest of the {@code k} codewords of one sub-quantizer to the {@code dd}-vector at {@code x[xo]}: the index
   * of the smallest {@code cn[cno + c] − 2 x·b_c} ({@code L2Kernel.nearest}'s key, bit for bit), the lowest index
   * on ties, NaN keys never chosen, 0 when no key is below {@code +∞} — {@code L2Kernel.nearest}'s answer. Each lane
   * keeps the first minimum of its codewords ({@code c ≡ lane mod L}); the lanes are then compared in scalar code.
   *
   * @param bt {@link #blockTranspose} of the codebooks; this sub-quantizer's {@code k} rows start at block {@code
   *     blk0} ({@code k % L == 0})
   * @param scratch at least {@code 2L} floats (overwritten)
   */
  public static int nearestCodeword(float[] x, int xo, float[] bt, int blk0, float[] cn, int cno, int k, int dd,
      float[] scratch) {
    if (dd == 8) {
      return nearestCodeword8(x, xo, bt, blk0, cn, cno, k, scratch);
    }
    FloatVector best = FloatVector.broadcast(FS, Float.POSITIVE_INFINITY);
    FloatVector bestBlock = FloatVector.broadcast(FS, -1f);
    int blocks = k / L;
    for (int b = 0; b < blocks; b++) {
      FloatVector key = FloatVector.fromArray(FS, cn, cno + b * L)
          .sub(dotBlock(x, xo, bt, (blk0 + b) * dd * L, dd).mul(2f));
      jdk.incubator.vector.VectorMask<Float> lower = key.lt(best);
      best = best.blend(key, lower);
      bestBlock = bestBlock.blend((float) b, lower); // block numbers < 2^24 are exact floats
    }
    return firstMinimum(best, bestBlock, scratch);
  }

  /**
   * {@link #nearestCodeword} for {@code dd = 8} (the usual {@code d / M}), the sub-vector's eight broadcasts loaded
   * once instead of once per block: {@link #dotBlock}'s operations in its order, unrolled.
   */
  private static int nearestCodeword8(float[] x, int xo, float[] bt, int blk0, float[] cn, int cno, int k,
      float[] scratch) {
    FloatVector x0 = FloatVector.broadcast(FS, x[xo]);
    FloatVector x1 = FloatVector.broadcast(FS, x[xo + 1]);
    FloatVector x2 = FloatVector.broadcast(FS, x[xo + 2]);
    FloatVector x3 = FloatVector.broadcast(FS, x[xo + 3]);
    FloatVector x4 = FloatVector.broadcast(FS, x[xo + 4]);
    FloatVector x5 = FloatVector.broadcast(FS, x[xo + 5]);
    FloatVector x6 = FloatVector.broadcast(FS, x[xo + 6]);
    FloatVector x7 = FloatVector.broadcast(FS, x[xo + 7]);
    FloatVector zero = FloatVector.zero(FS);
    FloatVector best = FloatVector.broadcast(FS, Float.POSITIVE_INFINITY);
    FloatVector bestBlock = FloatVector.broadcast(FS, -1f);
    int blocks = k / L;
    for (int b = 0; b < blocks; b++) {
      int o = (blk0 + b) * 8 * L;
      FloatVector s0 = zero.add(FloatVector.fromArray(FS, bt, o).mul(x0));
      FloatVector s1 = zero.add(FloatVector.fromArray(FS, bt, o + L).mul(x1));
      s0 = s0.add(FloatVector.fromArray(FS, bt, o + 2 * L).mul(x2));
      s1 = s1.add(FloatVector.fromArray(FS, bt, o + 3 * L).mul(x3));
      s0 = s0.add(FloatVector.fromArray(FS, bt, o + 4 * L).mul(x4));
      s1 = s1.add(FloatVector.fromArray(FS, bt, o + 5 * L).mul(x5));
      s0 = s0.add(FloatVector.fromArray(FS, bt, o + 6 * L).mul(x6));
      s1 = s1.add(FloatVector.fromArray(FS, bt, o + 7 * L).mul(x7));
      FloatVector key = FloatVector.fromArray(FS, cn, cno + b * L).sub(s0.add(s1).mul(2f));
      jdk.incubator.vector.VectorMask<Float> lower = key.lt(best);
      best = best.blend(key, lower);
      bestBlock = bestBlock.blend((float) b, lower);
    }
    return firstMinimum(best, bestBlock, scratch);
  }

  /**
   * The codeword {@code block·L + lane} with the smallest per-lane minimum, the lowest index on ties; 0 when no lane
   * found a key below {@code +∞} (block −1).
   */
  private static int firstMinimum(FloatVector best, FloatVector bestBlock, float[] scratch) {
    best.intoArray(scratch, 0);
    bestBlock.intoArray(scratch, L);
    float bd = Float.POSITIVE_INFINITY;
    int bj = -1;
    for (int u = 0; u < L; u++) {
      int blk = (int) scratch[L + u];
      if (blk < 0) {
        continue;
      }
      float v = scratch[u];
      int j = blk * L + u;
      if (v < bd || (v == bd && j < bj)) {
        bd = v;
        bj = j;
      }
    }
    return Math.max(bj, 0);
  }

  /**
   * {@code a[ao + j] += xi · y[yo + j]} for {@code 0 ≤ j < n}, in double: the scalar statement's operations (one
   * multiply, one add per element), one lane per element (OPQ's cross-covariance, {@code Procrustes.accumulate}).
   */
  public static void axpy(double[] a, int ao, double xi, double[] y, int yo, int n) {
    int j = 0;
    for (int e = DS.loopBound(n); j < e; j += DS.length()) {
      DoubleVector.fromArray(DS, a, ao + j).add(DoubleVector.fromArray(DS, y, yo + j).mul(xi)).intoArray(a, ao + j);
    }
    for (; j < n; j++) {
      a[ao + j] += xi * y[yo + j];
    }
  }

  /**
   * {@code out[oo + j] = L2Kernel.dot(r_j, x)} for the rows {@code r_j} of blocks {@code blockFrom ≤ b < blockTo}
   * ({@code j = b·L + lane}) and the {@code d}-vector at {@code x[xo]}, bit for bit (the rotation {@code R x} of
   * {@link io.quarry.core.quant.component.VectorTransform}).
   *
   * @param rt {@link #blockTranspose} of the rows ({@code d} floats each)
   */
  public static void dots(float[] x, int xo, float[] rt, int blockFrom, int blockTo, int d, float[] out, int oo) {
    for (int b = blockFrom; b < blockTo; b++) {
      dotBlock(x, xo, rt, b * d * L, d).intoArray(out, oo + b * L);
    }
  }

  /**
   * {@code table[j·ksub + c] = <x_j, b_{j,c}>} (the order of {@code VectorMath.dot}: dimensions {@code t mod 4} in
   * four accumulators, a tail {@code t ≥ dsub − dsub mod 4} into the first, then {@code (s0 + s1) + (s2 + s3)}).
   *
   * @param x a {@code d}-vector ({@code d = M·dsub}, at offset {@code xo})
   * @param bt {@link #blockTranspose} of the {@code (M·ksub) × dsub} codewords; requires {@code ksub % L == 0}
   */
  public static void ipTable(float[] x, int xo, float[] bt, int m, int ksub, int dsub, float[] table) {
    int d4 = dsub & ~3;
    int blocksPerSub = ksub / L;
    for (int j = 0; j < m; j++) {
      int xj = xo + j * dsub;
      for (int b = 0; b < blocksPerSub; b++) {
        int o = (j * blocksPerSub + b) * dsub * L;
        FloatVector s0 = FloatVector.zero(FS);
        FloatVector s1 = FloatVector.zero(FS);
        FloatVector s2 = FloatVector.zero(FS);
        FloatVector s3 = FloatVector.zero(FS);
        int t = 0;
        for (; t < d4; t += 4) {
          s0 = s0.add(FloatVector.fromArray(FS, bt, o + t * L).mul(x[xj + t]));
          s1 = s1.add(FloatVector.fromArray(FS, bt, o + (t + 1) * L).mul(x[xj + t + 1]));
          s2 = s2.add(FloatVector.fromArray(FS, bt, o + (t + 2) * L).mul(x[xj + t + 2]));
          s3 = s3.add(FloatVector.fromArray(FS, bt, o + (t + 3) * L).mul(x[xj + t + 3]));
        }
        for (; t < dsub; t++) {
          s0 = s0.add(FloatVector.fromArray(FS, bt, o + t * L).mul(x[xj + t]));
        }
        s0.add(s1).add(s2.add(s3)).intoArray(table, j * ksub + b * L);
      }
    }
  }

  /**
   * {@code out[oo + i] = a[ao + i] + s × b[i]} for {@code i < n} (FAISS {@code fvec_madd}; scalar tail in the same
   * two operations).
   */
  public static void madd(float[] a, int ao, float s, float[] b, float[] out, int oo, int n) {
    int i = 0;
    for (int e = FS.loopBound(n); i < e; i += L) {
      FloatVector.fromArray(FS, a, ao + i).add(FloatVector.fromArray(FS, b, i).mul(s)).intoArray(out, oo + i);
    }
    for (; i < n; i++) {
      out[oo + i] = a[ao + i] + s * b[i];
    }
  }

  private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;

  /**
   * {@link WideL2#l2sq} on four 8-lane accumulators ({@code s[u]} of lane {@code u mod 8} in accumulator {@code u /
   * 8}); the tail and the final sums in scalar code in {@link WideL2}'s order.
   */
  static float wideL2sq(float[] a, int ao, float[] b, int bo, int d) {
    FloatVector s0 = FloatVector.zero(F256);
    FloatVector s1 = FloatVector.zero(F256);
    FloatVector s2 = FloatVector.zero(F256);
    FloatVector s3 = FloatVector.zero(F256);
    int main = d - d % WideL2.WIDTH;
    for (int t = 0; t < main; t += WideL2.WIDTH) {
      FloatVector d0 = FloatVector.fromArray(F256, a, ao + t).sub(FloatVector.fromArray(F256, b, bo + t));
      FloatVector d1 = FloatVector.fromArray(F256, a, ao + t + 8).sub(FloatVector.fromArray(F256, b, bo + t + 8));
      FloatVector d2 = FloatVector.fromArray(F256, a, ao + t + 16).sub(FloatVector.fromArray(F256, b, bo + t + 16));
      FloatVector d3 = FloatVector.fromArray(F256, a, ao + t + 24).sub(FloatVector.fromArray(F256, b, bo + t + 24));
      s0 = s0.add(d0.mul(d0));
      s1 = s1.add(d1.mul(d1));
      s2 = s2.add(d2.mul(d2));
      s3 = s3.add(d3.mul(d3));
    }
    float[] s = new float[WideL2.WIDTH];
    s0.intoArray(s, 0);
    s1.intoArray(s, 8);
    s2.intoArray(s, 16);
    s3.intoArray(s, 24);
    for (int t = main; t < d; t++) {
      float df = a[ao + t] - b[bo + t];
      s[t - main] = s[t - main] + df * df;
    }
    return WideL2.reduce(s);
  }
}
