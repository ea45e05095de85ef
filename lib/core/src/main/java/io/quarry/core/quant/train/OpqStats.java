package io.quarry.core.quant.train;

import io.quarry.core.quant.component.ProductQuantizer;
import io.quarry.core.quant.component.VectorTransform;
import io.quarry.core.quant.kernel.BlockProducts;
import io.quarry.core.quant.kernel.VectorMath;
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
  private static final int BLOCK = 1024;
  private final int d;
  private final double[] cross;
  private double sse;
  private long n;

  public OpqStats(int d) {
    this.d = d;
    this.cross = new double[d * d];
  }

  /** {@link #addBatch} of one raw {@code d}-vector. Returns this. */
  public OpqStats add(float[] x, VectorTransform rotation, ProductQuantizer pq) {
    return addBatch(x, 1, rotation, pq);
  }

  /**
   * Adds {@code rows} raw vectors: rotates them ({@link VectorTransform#apply(float[], int, float[])}), encodes the
   * rotation with {@code pq} ({@link ProductQuantizer#subCodes}) and accumulates {@code x ŷᵀ} and the error.
   *
   * @param x {@code rows × d} raw vectors, row-major
   * @param rotation current rotation {@code R}
   * @param pq current PQ codebooks
   */
  public OpqStats addBatch(float[] x, int rows, VectorTransform rotation, ProductQuantizer pq) {
    return addBatch(x, rows, rotation, pq, null);
  }

  /**
   * {@link #addBatch(float[], int, VectorTransform, ProductQuantizer)} with the encoding's sub-vector × codebook
   * products in {@code gemm} ({@link ProductQuantizer#subCodes(float[], int, int[], BlockProducts)}): the same
   * statistics bit for bit.
   *
   * @param gemm inner-product kernel; null: the reference kernel alone
   */
  public OpqStats addBatch(float[] x, int rows, VectorTransform rotation, ProductQuantizer pq, BlockProducts gemm) {
    float[] y = new float[Math.min(rows, BLOCK) * d];
    float[] xb = new float[y.length];
    for (int i0 = 0; i0 < rows; i0 += BLOCK) {
      int nb = Math.min(BLOCK, rows - i0);
      System.arraycopy(x, i0 * d, xb, 0, nb * d);
      rotation.apply(xb, nb, y);
      addRotatedBatch(xb, y, nb, pq, gemm);
    }
    return this;
  }

  /**
   * {@link #addBatch(float[], int, VectorTransform, ProductQuantizer, BlockProducts)} of raw vectors whose rotation
   * {@code y = R x} the caller already has (e.g. kept from the Lloyd passes under the same {@code R}): the same
   * statistics bit for bit.
   *
   * @param x {@code rows × d} raw vectors; @param y their rotations, {@code rows × d}
   */
  public OpqStats addRotatedBatch(float[] x, float[] y, int rows, ProductQuantizer pq, BlockProducts gemm) {
    int block = Math.min(rows, BLOCK);
    int m = pq.m();
    int[] codes = new int[block * m];
    float[] yhat = new float[block * d];
    float[] xb = x;
    float[] yb = y;
    if (rows > BLOCK) {
      xb = new float[block * d];
      yb = new float[block * d];
    }
    int dsub = pq.dsub();
    for (int i0 = 0; i0 < rows; i0 += BLOCK) {
      int nb = Math.min(BLOCK, rows - i0);
      if (xb != x) {
        System.arraycopy(x, i0 * d, xb, 0, nb * d);
        System.arraycopy(y, i0 * d, yb, 0, nb * d);
      }
      pq.subCodes(yb, nb, codes, gemm);
      java.util.Arrays.fill(yhat, 0f);
      for (int i = 0; i < nb; i++) {
        for (int j = 0; j < m; j++) {
          pq.addCodeword(j, codes[i * m + j], yhat, i * d + j * dsub);
        }
        sse += VectorMath.l2sq(yb, i * d, yhat, i * d, d);
        n++;
      }
      Procrustes.accumulate(cross, xb, yhat, nb, d); // row order per element: as one vector at a time
    }
    return this;
  }

  public OpqStats merge(OpqStats other) {
    PartialSums.add(cross, other.cross);
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
