package io.quarry.core.quant.kernel;

/**
 * The one nearest-centroid kernel of the quantizers (coarse assignment, probing, PQ encoding, PQ/OPQ Lloyd passes):
 * squared L2 distance ranked as {@code ||c||² − 2 x·c} with precomputed centroid norms (the {@code ||x||²} term is
 * the same for every centroid of a vector and is left out), as FAISS's {@code exhaustive_L2sqr_blas}. Loops are
 * blocked over vectors and centroids so a block of centroids stays in cache while it serves a block of vectors, and
 * register-blocked: {@link #dot4} computes four vectors' dot products with one centroid row per pass (one load of the
 * row serves four products, eight independent accumulators). Every dot product, in {@link #dot} or {@link #dot4}, has
 * the same float arithmetic (two interleaved accumulators, even and odd indices, summed at the end), so a vector
 * gets the same bits alone or in a batch. Ties go to the lowest centroid index. {@link io.quarry.core.quant.component.VectorTransform} uses the same
 * dot products for the rotation.
 */
public final class L2Kernel {
  private L2Kernel() {}

  private static final int VEC_BLOCK = 16;
  private static final int CACHE_FLOATS = 16 * 1024; // 64 KiB of centroids per block

  /** The kernel's dot product of {@code a[ao, ao+n)} and {@code b[bo, bo+n)} (see the class comment). */
  public static float dot(float[] a, int ao, float[] b, int bo, int n) {
    float s0 = 0;
    float s1 = 0;
    int t = 0;
    for (; t + 1 < n; t += 2) {
      s0 += a[ao + t] * b[bo + t];
      s1 += a[ao + t + 1] * b[bo + t + 1];
    }
    if (t < n) {
      s0 += a[ao + t] * b[bo + t];
    }
    return s0 + s1;
  }

  /**
   * Dot products of row {@code c[co, co+n)} with the four rows at {@code x[x0]}, {@code x[x1]}, {@code x[x2]},
   * {@code x[x3]} into {@code out[0..3]}; each equals {@link #dot} of the pair bit for bit.
   */
  public static void dot4(float[] c, int co, float[] x, int x0, int x1, int x2, int x3, int n, float[] out) {
    float a0 = 0;
    float a1 = 0;
    float b0 = 0;
    float b1 = 0;
    float c0 = 0;
    float c1 = 0;
    float d0 = 0;
    float d1 = 0;
    int t = 0;
    for (; t + 1 < n; t += 2) {
      float w0 = c[co + t];
      float w1 = c[co + t + 1];
      a0 += w0 * x[x0 + t];
      a1 += w1 * x[x0 + t + 1];
      b0 += w0 * x[x1 + t];
      b1 += w1 * x[x1 + t + 1];
      c0 += w0 * x[x2 + t];
      c1 += w1 * x[x2 + t + 1];
      d0 += w0 * x[x3 + t];
      d1 += w1 * x[x3 + t + 1];
    }
    if (t < n) {
      float w0 = c[co + t];
      a0 += w0 * x[x0 + t];
      b0 += w0 * x[x1 + t];
      c0 += w0 * x[x2 + t];
      d0 += w0 * x[x3 + t];
    }
    out[0] = a0 + a1;
    out[1] = b0 + b1;
    out[2] = c0 + c1;
    out[3] = d0 + d1;
  }

  /** {@code ||c_j||²} of {@code k} rows of {@code dd} floats starting at {@code co}. */
  public static float[] norms(float[] c, int co, int k, int dd) {
    float[] out = new float[k];
    for (int j = 0; j < k; j++) {
      out[j] = dot(c, co + j * dd, c, co + j * dd, dd);
    }
    return out;
  }

  /**
   * For each of {@code n} vectors (vector {@code i} at {@code x[xo + i·ldx]}, {@code dd} floats) the index of the
   * nearest of the {@code k} centroids at {@code c[co + j·dd]}, written to {@code best[bo + i·bstride]}.
   *
   * @param cn centroid norms, {@code cn[cno + j] = ||c_j||²}
   */
  public static void nearest(float[] x, int xo, int ldx, int n, float[] c, int co, float[] cn, int cno, int k, int dd,
      int[] best, int bo, int bstride) {
    float[] bestD = new float[Math.min(n, VEC_BLOCK)];
    int cblock = Math.max(1, CACHE_FLOATS / dd);
    for (int i0 = 0; i0 < n; i0 += VEC_BLOCK) {
      int i1 = Math.min(n, i0 + VEC_BLOCK);
      java.util.Arrays.fill(bestD, Float.POSITIVE_INFINITY);
      for (int i = i0; i < i1; i++) {
        best[bo + i * bstride] = 0;
      }
      float[] d4 = new float[4];
      for (int j0 = 0; j0 < k; j0 += cblock) {
        int j1 = Math.min(k, j0 + cblock);
        int i = i0;
        for (; i + 3 < i1; i += 4) { // four vectors per pass over a centroid row
          int xi = xo + i * ldx;
          for (int j = j0; j < j1; j++) {
            dot4(c, co + j * dd, x, xi, xi + ldx, xi + 2 * ldx, xi + 3 * ldx, dd, d4);
            float cnj = cn[cno + j];
            for (int u = 0; u < 4; u++) {
              float dist = cnj - 2f * d4[u];
              if (dist < bestD[i - i0 + u]) {
                bestD[i - i0 + u] = dist;
                best[bo + (i + u) * bstride] = j;
              }
            }
          }
        }
        for (; i < i1; i++) {
          int xi = xo + i * ldx;
          float bd = bestD[i - i0];
          int bj = -1;
          for (int j = j0; j < j1; j++) {
            float dist = cn[cno + j] - 2f * dot(c, co + j * dd, x, xi, dd);
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

  /**
   * {@link #nearest} from inner products computed elsewhere (a {@link BlockProducts}, e.g. a BLAS {@code sgemm}),
   * with the same result bit for bit whatever their summation order. Per vector, the approximate distances {@code
   * ||c||² − 2 p} shortlist every centroid within {@code 2E} of the approximate minimum, where {@code E} bounds the
   * difference between the approximate and the reference distance ({@code E = 1.01 · ((4γ_dd + 8u)·||x||·max||c|| +
   * 4u·max||c||²) + dd·Float.MIN_NORMAL}, {@code γ_dd = dd·u/(1 − dd·u)}, {@code u = 2⁻²⁴}: both dot products are
   * within {@code γ_dd ||x|| ||c||} of the exact one, and each subtraction rounds once); this kernel's {@link #dot}
   * then ranks the shortlist, lowest index on ties. The reference minimum is always on the shortlist, so the result
   * equals {@link #nearest}'s. A vector with a non-finite approximate distance is left to {@link #nearest}.
   *
   * @param x vectors, vector {@code i} at {@code x[xo + i·ldx]}, {@code dd} floats
   * @param c {@code k} centroids at {@code c[co + j·dd]}; @param cn their norms at {@code cn[cno + j]}
   * @param p {@code n × k} products, {@code p[i·k + j] ≈ x_i · c_j} (overwritten)
   * @param best destination: {@code best[bo + i·bstride]}
   */
  public static void nearestFromProducts(float[] x, int xo, int ldx, int n, float[] c, int co, float[] cn, int cno,
      int k, int dd, float[] p, int[] best, int bo, int bstride) {
    double u = 0x1.0p-24;
    double gamma = dd * u / (1 - dd * u);
    double maxNorm = 0;
    for (int j = 0; j < k; j++) {
      maxNorm = Math.max(maxNorm, cn[cno + j]);
    }
    double cmax = Math.sqrt(maxNorm);
    for (int i = 0; i < n; i++) {
      int po = i * k;
      float amin = Float.POSITIVE_INFINITY;
      boolean nan = false;
      for (int j = 0; j < k; j++) {
        float a = cn[cno + j] - 2f * p[po + j];
        p[po + j] = a;
        nan |= a != a;
        if (a < amin) {
          amin = a;
        }
      }
      int xi = xo + i * ldx;
      double xnorm = Math.sqrt(VectorMath.dot(x, xi, x, xi, dd));
      double e = 1.01 * ((4 * gamma + 8 * u) * xnorm * cmax + 4 * u * maxNorm) + dd * (double) Float.MIN_NORMAL;
      double limit = amin + 2 * e;
      if (nan || !(limit < Double.POSITIVE_INFINITY)) { // non-finite input: the reference kernel decides
        nearest(x, xi, ldx, 1, c, co, cn, cno, k, dd, best, bo + i * bstride, bstride);
        continue;
      }
      float bd = Float.POSITIVE_INFINITY;
      int bj = 0;
      for (int j = 0; j < k; j++) {
        if (p[po + j] <= limit) {
          float dist = cn[cno + j] - 2f * dot(c, co + j * dd, x, xi, dd);
          if (dist < bd) {
            bd = dist;
            bj = j;
          }
        }
      }
      best[bo + i * bstride] = bj;
    }
  }

  /** {@code out[j] = ||c_j||² − 2 x·c_j} for one vector at {@code x[xo]} and all {@code k} centroids. */
  public static void distances(float[] x, int xo, float[] c, float[] cn, int k, int dd, float[] out) {
    distances(x, xo, c, cn, 0, k, dd, out);
  }

  /** {@link #distances} for centroids {@code from ≤ j < k} only. */
  public static void distances(float[] x, int xo, float[] c, float[] cn, int from, int k, int dd, float[] out) {
    for (int j = from; j < k; j++) {
      out[j] = cn[j] - 2f * dot(c, j * dd, x, xo, dd);
    }
  }
}
