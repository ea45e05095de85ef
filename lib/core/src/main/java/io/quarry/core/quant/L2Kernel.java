package io.quarry.core.quant;

/**
 * The one nearest-centroid kernel of the quantizers (coarse assignment, probing, PQ encoding, PQ/OPQ Lloyd passes):
 * squared L2 distance ranked as {@code ||c||² − 2 x·c} with precomputed centroid norms (the {@code ||x||²} term is
 * the same for every centroid of a vector and is left out), as FAISS's {@code exhaustive_L2sqr_blas}. Dot products are
 * {@link VectorMath#dot} (float, fixed order), so a vector gets the same bits alone or in a batch; loops are blocked
 * over vectors and centroids so a block of centroids stays in cache while it serves a block of vectors. Ties go to
 * the lowest centroid index.
 */
final class L2Kernel {
  private L2Kernel() {}

  private static final int VEC_BLOCK = 16;
  private static final int CACHE_FLOATS = 16 * 1024; // 64 KiB of centroids per block

  /** {@code ||c_j||²} of {@code k} rows of {@code dd} floats starting at {@code co}. */
  static float[] norms(float[] c, int co, int k, int dd) {
    float[] out = new float[k];
    for (int j = 0; j < k; j++) {
      out[j] = VectorMath.dot(c, co + j * dd, c, co + j * dd, dd);
    }
    return out;
  }

  /**
   * For each of {@code n} vectors (vector {@code i} at {@code x[xo + i·ldx]}, {@code dd} floats) the index of the
   * nearest of the {@code k} centroids at {@code c[co + j·dd]}, written to {@code best[bo + i·bstride]}.
   *
   * @param cn centroid norms, {@code cn[cno + j] = ||c_j||²}
   */
  static void nearest(float[] x, int xo, int ldx, int n, float[] c, int co, float[] cn, int cno, int k, int dd,
      int[] best, int bo, int bstride) {
    float[] bestD = new float[Math.min(n, VEC_BLOCK)];
    int cblock = Math.max(1, CACHE_FLOATS / dd);
    for (int i0 = 0; i0 < n; i0 += VEC_BLOCK) {
      int i1 = Math.min(n, i0 + VEC_BLOCK);
      java.util.Arrays.fill(bestD, Float.POSITIVE_INFINITY);
      for (int i = i0; i < i1; i++) {
        best[bo + i * bstride] = 0;
      }
      for (int j0 = 0; j0 < k; j0 += cblock) {
        int j1 = Math.min(k, j0 + cblock);
        for (int i = i0; i < i1; i++) {
          int xi = xo + i * ldx;
          float bd = bestD[i - i0];
          int bj = -1;
          for (int j = j0; j < j1; j++) {
            float dist = cn[cno + j] - 2f * VectorMath.dot(c, co + j * dd, x, xi, dd);
            if (dist < bd) {
              bd = dist;
              bj = j;
            }
          }
          if (bj >= 0) {
            bestD[i - i0] = bd;
            best[bo + i * bstride] = bj;
          }
        }
      }
    }
  }

  /** {@code out[j] = ||c_j||² − 2 x·c_j} for one vector at {@code x[xo]} and all {@code k} centroids. */
  static void distances(float[] x, int xo, float[] c, float[] cn, int k, int dd, float[] out) {
    for (int j = 0; j < k; j++) {
      out[j] = cn[j] - 2f * VectorMath.dot(c, j * dd, x, xo, dd);
    }
  }
}
