package io.quarry.core.quant.train;

import io.quarry.core.quant.kernel.Simd;
import io.quarry.core.quant.kernel.VectorKernels;

/**
 * Orthogonal Procrustes solution for OPQ's rotation update (Ge et al., "Optimized Product Quantization for Approximate
 * Nearest Neighbor Search", CVPR 2013, section 3.2; Schönemann 1966): given the {@code d × d} cross-covariance
 * {@code A = Σ_i x_i ŷ_iᵀ} between raw vectors {@code x_i} and their current PQ reconstructions {@code ŷ_i} (in the
 * rotated space), the orthogonal {@code R} minimizing {@code Σ_i ||R x_i − ŷ_i||²} is {@code R = V Uᵀ} where {@code A
 * = U S Vᵀ}.
 *
 * <p>The SVD is one-sided Jacobi (Hestenes 1958; Demmel and Veselić 1992) in double precision, which is accurate for
 * the small, dense {@code d × d} matrices here ({@code d} ≤ a few thousand; cost {@code O(sweeps · d³)}). For a
 * rank-deficient {@code A} (e.g. dimensions that are constant zero), the missing left singular vectors are completed
 * to an orthonormal basis by Gram–Schmidt on the standard basis, so {@code R} is always orthogonal.
 */
public final class Procrustes {
  private Procrustes() {}

  /**
   * SVD result {@code A = U diag(s) Vᵀ}.
   *
   * @param u {@code d × d} row-major, orthonormal columns
   * @param s {@code d} singular values (not sorted)
   * @param v {@code d × d} row-major, orthonormal columns
   */
  public record Svd(double[] u, double[] s, double[] v) {}

  /**
   * One-sided Jacobi SVD of a square {@code d × d} row-major matrix.
   *
   * @throws IllegalArgumentException when {@code a.length != d × d} or it holds a non-finite value
   */
  public static Svd svd(double[] a, int d) {
    if (a.length != d * d) {
      throw new IllegalArgumentException("svd: expected " + d + " × " + d + " values, got " + a.length);
    }
    // Work on columns: store W column-major (w[col * d + row]) for cache-friendly column ops.
    double[] w = new double[d * d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        double val = a[i * d + j];
        if (!Double.isFinite(val)) {
          throw new IllegalArgumentException("svd: non-finite value at (" + i + ", " + j + ")");
        }
        w[j * d + i] = val;
      }
    }
    double[] v = new double[d * d]; // column-major too
    for (int i = 0; i < d; i++) {
      v[i * d + i] = 1;
    }
    final double eps = 1e-15;
    for (int sweep = 0; sweep < 60; sweep++) {
      boolean rotated = false;
      for (int p = 0; p < d - 1; p++) {
        for (int q = p + 1; q < d; q++) {
          double alpha = 0;
          double beta = 0;
          double gamma = 0;
          int po = p * d;
          int qo = q * d;
          for (int i = 0; i < d; i++) {
            double wp = w[po + i];
            double wq = w[qo + i];
            alpha += wp * wp;
            beta += wq * wq;
            gamma += wp * wq;
          }
          if (gamma == 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) {
            continue;
          }
          rotated = true;
          double zeta = (beta - alpha) / (2 * gamma);
          double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
          if (zeta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(1 + t * t);
          double s = c * t;
          for (int i = 0; i < d; i++) {
            double wp = w[po + i];
            double wq = w[qo + i];
            w[po + i] = c * wp - s * wq;
            w[qo + i] = s * wp + c * wq;
            double vp = v[po + i];
            double vq = v[qo + i];
            v[po + i] = c * vp - s * vq;
            v[qo + i] = s * vp + c * vq;
          }
        }
      }
      if (!rotated) {
        break;
      }
    }
    double[] s = new double[d];
    double smax = 0;
    for (int j = 0; j < d; j++) {
      double nrm = 0;
      for (int i = 0; i < d; i++) {
        nrm += w[j * d + i] * w[j * d + i];
      }
      s[j] = Math.sqrt(nrm);
      smax = Math.max(smax, s[j]);
    }
    double[] ucm = new double[d * d]; // column-major U
    boolean[] valid = new boolean[d];
    double tiny = Math.max(smax * d * 1e-13, Double.MIN_NORMAL);
    for (int j = 0; j < d; j++) {
      if (s[j] > tiny) {
        valid[j] = true;
        for (int i = 0; i < d; i++) {
          ucm[j * d + i] = w[j * d + i] / s[j];
        }
      }
    }
    completeBasis(ucm, valid, d);
    double[] u = new double[d * d];
    double[] vr = new double[d * d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        u[i * d + j] = ucm[j * d + i];
        vr[i * d + j] = v[j * d + i];
      }
    }
    return new Svd(u, s, vr);
  }

  /** Fills the invalid columns of column-major {@code u} with unit vectors orthogonal to all valid ones. */
  private static void completeBasis(double[] u, boolean[] valid, int d) {
    int e = 0;
    for (int j = 0; j < d; j++) {
      if (valid[j]) {
        continue;
      }
      while (e < d) {
        double[] cand = new double[d];
        cand[e++] = 1;
        for (int pass = 0; pass < 2; pass++) { // re-orthogonalize twice for stability
          for (int k = 0; k < d; k++) {
            if (!valid[k]) {
              continue;
            }
            double dot = 0;
            for (int i = 0; i < d; i++) {
              dot += u[k * d + i] * cand[i];
            }
            for (int i = 0; i < d; i++) {
              cand[i] -= dot * u[k * d + i];
            }
          }
        }
        double nrm = 0;
        for (double c : cand) {
          nrm += c * c;
        }
        nrm = Math.sqrt(nrm);
        if (nrm > 1e-6) {
          for (int i = 0; i < d; i++) {
            u[j * d + i] = cand[i] / nrm;
          }
          valid[j] = true;
          break;
        }
      }
    }
  }

  /**
   * The orthogonal {@code R = V Uᵀ} maximizing {@code trace(R A)}, i.e. minimizing {@code Σ ||R x_i − ŷ_i||²} for
   * {@code A = Σ x_i ŷ_iᵀ}.
   *
   * @param crossCov {@code d × d} row-major {@code A}
   * @return {@code d × d} row-major rotation, as float (the model's precision)
   */
  public static float[] rotation(double[] crossCov, int d) {
    Svd svd = svd(crossCov, d);
    float[] r = new float[d * d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        double acc = 0;
        for (int k = 0; k < d; k++) {
          acc += svd.v()[i * d + k] * svd.u()[j * d + k];
        }
        r[i * d + j] = (float) acc;
      }
    }
    return r;
  }

  /**
   * Accumulates {@code A += x ŷᵀ} ({@code d × d}, row-major) in double.
   *
   * @param a accumulator of {@code d × d}
   * @param x raw vector ({@code d})
   * @param yhat reconstruction in the rotated space ({@code d})
   */
  public static void accumulate(double[] a, float[] x, float[] yhat) {
    accumulate(a, x, yhat, 1, x.length);
  }

  /** Rows of {@code A} updated together by {@link #accumulate(double[], float[], float[], int, int)} (≈ 48 KiB). */
  private static final int ROW_BLOCK_DOUBLES = 6 * 1024;

  /**
   * Accumulates {@code A += Σ_b x_b ŷ_bᵀ} over {@code rows} pairs ({@code rows × d} row-major each), blocked over rows
   * of {@code A} so a block of {@code A} stays in cache while the batch streams past it (per vector, the whole
   * {@code d × d} accumulator would go through memory: 1.2 MB at d = 384). Every element receives the same double
   * additions in the same (row) order as one {@link #accumulate(double[], float[], float[])} call per pair, so the
   * result is bit-identical to it (a zero {@code x_b[i]} is skipped in both).
   */
  public static void accumulate(double[] a, float[] x, float[] yhat, int rows, int d) {
    int ib = Math.max(1, ROW_BLOCK_DOUBLES / d);
    // on the Vector API: the same additions, one lane per element of a row of A (ŷ widened to double once)
    double[] y = null;
    if (Simd.ENABLED) {
      y = new double[rows * d];
      for (int t = 0; t < y.length; t++) {
        y[t] = yhat[t];
      }
    }
    for (int i0 = 0; i0 < d; i0 += ib) {
      int i1 = Math.min(d, i0 + ib);
      for (int b = 0; b < rows; b++) {
        int xo = b * d;
        for (int i = i0; i < i1; i++) {
          double xi = x[xo + i];
          if (xi == 0) {
            continue;
          }
          int row = i * d;
          if (y != null) {
            VectorKernels.axpy(a, row, xi, y, xo, d);
            continue;
          }
          for (int j = 0; j < d; j++) {
            a[row + j] += xi * yhat[xo + j];
          }
        }
      }
    }
  }

  /** Identity rotation {@code d × d}. */
  public static float[] identity(int d) {
    float[] r = new float[d * d];
    for (int i = 0; i < d; i++) {
      r[i * d + i] = 1;
    }
    return r;
  }
}
