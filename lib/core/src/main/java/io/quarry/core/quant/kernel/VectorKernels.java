package io.quarry.core.quant.kernel;

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
      int o = b * d * L;
      FloatVector s0 = FloatVector.zero(FS);
      FloatVector s1 = FloatVector.zero(FS);
      int t = 0;
      for (; t + 1 < d; t += 2) {
        s0 = s0.add(FloatVector.fromArray(FS, ct, o + t * L).mul(x[t]));
        s1 = s1.add(FloatVector.fromArray(FS, ct, o + (t + 1) * L).mul(x[t + 1]));
      }
      if (t < d) {
        s0 = s0.add(FloatVector.fromArray(FS, ct, o + t * L).mul(x[t]));
      }
      FloatVector.fromArray(FS, cn, b * L).sub(s0.add(s1).mul(2f)).intoArray(out, b * L);
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
}
