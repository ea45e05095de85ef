package io.quarry.core.quant;

import java.io.Serializable;

/**
 * Mergeable statistics of OPQ's rotation step (Ge et al., CVPR 2013, non-parametric OPQ, step "fix codebooks, update
 * R"): the {@code d × d} cross-covariance {@code A = Σ_i x_i ŷ_iᵀ} between raw vectors and the PQ reconstruction
 * {@code ŷ_i} of their rotation {@code R x_i}, plus the squared error {@code Σ ||R x_i − ŷ_i||²}. Accumulated per
 * Spark partition and merged in partition order; {@link Procrustes#rotation} turns {@code A} into the next
 * rotation on the driver. Memory: {@code 8 d²} bytes per accumulator.
 */
public final class OpqStats implements Serializable {
  private static final long serialVersionUID = 1L;
  private final int d;
  private final double[] cross;
  private double sse;
  private long n;

  public OpqStats(int d) {
    this.d = d;
    this.cross = new double[d * d];
  }

  /**
   * Adds one raw vector.
   *
   * @param x raw {@code d}-vector
   * @param rotation current {@code d × d} rotation {@code R}
   * @param codebooks current PQ codebooks {@code M × ksub × dsub}
   * @param m sub-quantizers
   * @param ksub codewords per sub-quantizer
   */
  public OpqStats add(float[] x, float[] rotation, float[] codebooks, int m, int ksub) {
    float[] y = new float[d];
    for (int i = 0; i < d; i++) {
      y[i] = VectorMath.dot(rotation, i * d, x, 0, d);
    }
    float[] yhat = reconstruct(y, codebooks, m, ksub);
    sse += VectorMath.l2sq(y, yhat);
    Procrustes.accumulate(cross, x, yhat);
    n++;
    return this;
  }

  /** PQ reconstruction (nearest codeword per sub-space, lowest index on ties) of {@code y}. */
  public static float[] reconstruct(float[] y, float[] codebooks, int m, int ksub) {
    int d = y.length;
    int dsub = d / m;
    float[] out = new float[d];
    for (int j = 0; j < m; j++) {
      int base = j * ksub * dsub;
      int best = 0;
      float bestD = Float.POSITIVE_INFINITY;
      for (int k = 0; k < ksub; k++) {
        float dist = VectorMath.l2sq(y, j * dsub, codebooks, base + k * dsub, dsub);
        if (dist < bestD) {
          bestD = dist;
          best = k;
        }
      }
      System.arraycopy(codebooks, base + best * dsub, out, j * dsub, dsub);
    }
    return out;
  }

  public OpqStats merge(OpqStats other) {
    for (int i = 0; i < cross.length; i++) {
      cross[i] += other.cross[i];
    }
    sse += other.sse;
    n += other.n;
    return this;
  }

  /** The accumulated {@code d × d} cross-covariance (live array). */
  public double[] crossCovariance() {
    return cross;
  }

  /** Mean squared PQ error per vector under the rotation and codebooks used in {@link #add}. */
  public double mse() {
    return n == 0 ? 0 : sse / n;
  }

  public long count() {
    return n;
  }
}
