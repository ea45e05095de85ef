package io.quarry.core.quant.kernel;

import java.io.Serializable;

/**
 * A level-3 kernel the quantizers may delegate the bulk of a nearest-centroid search to: all inner products of a block
 * of vectors with a block of centroids, e.g. one {@code sgemm} of a BLAS (Spark MLlib's {@code dev.ludovic.netlib},
 * native OpenBLAS when loaded). The summation order is the implementation's own, so the products may differ from
 * {@link L2Kernel}'s in their last bits; {@link io.quarry.core.quant.component.CoarseQuantizer#assign(float[], int, int[], BlockProducts)} only uses
 * them to shortlist centroids and decides with the reference kernel, so its result does not depend on the
 * implementation. Implementations must be thread-safe (one instance serves every task of an executor).
 */
@FunctionalInterface
public interface BlockProducts extends Serializable {
  /**
   * {@code out[i·k + j] = x_i · c_j} in float arithmetic, each product accurate to the usual dot-product error bound
   * ({@code |error| ≤ γ_d Σ_t |x_it c_jt|}, {@code γ_d = d·u/(1 − d·u)}, {@code u = 2⁻²⁴}; holds for any summation
   * order, blocked or with FMA, as in a BLAS {@code sgemm}).
   *
   * @param x {@code n × d} row-major
   * @param n rows of {@code x}
   * @param c {@code k × d} row-major
   * @param k rows of {@code c}
   * @param d dimension
   * @param out {@code n × k} row-major destination
   */
  void products(float[] x, int n, float[] c, int k, int d, float[] out);
}
