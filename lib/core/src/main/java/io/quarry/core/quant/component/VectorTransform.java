package io.quarry.core.quant.component;

import io.quarry.core.quant.kernel.L2Kernel;
import io.quarry.core.quant.kernel.Simd;
import io.quarry.core.quant.kernel.VectorKernels;
import java.io.Serializable;

/**
 * The vector transform applied before coarse and product quantization (FAISS {@code VectorTransform}): the OPQ
 * rotation {@code R} ({@code d × d}, orthogonal, row-major; Ge et al., "Optimized Product Quantization for
 * Approximate Nearest Neighbor Search", CVPR 2013), or the identity when the spec has no {@code OPQ<M>}. Immutable,
 * thread-safe, {@link Serializable}.
 *
 * <p>This is the one implementation of "rotate" in Quarry: encoding, training (OPQ statistics, IVF/PQ on the
 * rotated sample) and search all call {@link #apply(float[], int, float[])} or {@link #apply(float[])}, which run the
 * same kernel, so a vector rotated alone or in a batch gives the same bits. {@code y_k = Σ_j R[k][j] x_j} is the
 * quantizers' dot product ({@code L2Kernel.dot}/{@code dot4}: float, fixed order); the batch loop is blocked over
 * vectors and rows of {@code R} (a block of {@code R} stays in cache while it serves a block of vectors). On the
 * Vector API ({@link Simd#ENABLED}) one lane computes one output {@code y_k} with the scalar dot's operations in its
 * order ({@link VectorKernels#dots}), so the bits never depend on it; in scalar loops, four vectors per pass over a
 * row of {@code R}.
 *
 * <p>File section ({@code OPQR}, written only for a rotation): {@code int32 d}, {@code float32[d × d]} big-endian.
 */
public final class VectorTransform implements Serializable {
  private static final long serialVersionUID = 1L;

  private static final int ROW_BLOCK = 32;
  private static final int VEC_BLOCK = 16;

  private final int d;
  private final float[] r;
  /** {@link VectorKernels#blockTranspose} of {@code R}, built on the first vectorized {@link #apply}. */
  private transient volatile float[] rt;

  private VectorTransform(int d, float[] r) {
    if (d <= 0) {
      throw new IllegalArgumentException("transform dimension must be > 0, got " + d);
    }
    this.d = d;
    this.r = r;
  }

  /** The identity on {@code d}-vectors (no OPQ). */
  public static VectorTransform identity(int d) {
    return new VectorTransform(d, null);
  }

  /**
   * A rotation {@code xt = R x}.
   *
   * @param r {@code d × d} row-major (copied)
   * @throws IllegalArgumentException when {@code r.length != d²} or a value is not finite
   */
  public static VectorTransform rotation(float[] r, int d) {
    return new VectorTransform(d, Checks.finite(r, (long) d * d, "rotation (d × d)"));
  }

  /** Input and output dimension {@code d}. */
  public int dim() {
    return d;
  }

  /** True for the identity (no OPQ rotation). */
  public boolean isIdentity() {
    return r == null;
  }

  /** A copy of the {@code d × d} matrix, or null for the identity. */
  public float[] matrix() {
    return r == null ? null : r.clone();
  }

  /**
   * {@code R x} of one vector (a copy of {@code x} for the identity).
   *
   * @param x a {@code d}-vector
   * @return a new {@code d}-vector
   * @throws IllegalArgumentException when {@code x.length != d}
   */
  public float[] apply(float[] x) {
    if (x.length != d) {
      throw new IllegalArgumentException("vector has dimension " + x.length + ", the quantizer expects " + d);
    }
    float[] y = new float[d];
    apply(x, 1, y);
    return y;
  }

  /**
   * {@code out_i = R x_i} for {@code n} vectors.
   *
   * @param x {@code n × d} row-major (at least {@code n·d} floats)
   * @param n number of vectors
   * @param out {@code n × d} row-major destination; must not be {@code x} unless the transform is the identity
   * @throws IllegalArgumentException when an array is too short
   */
  public void apply(float[] x, int n, float[] out) {
    long len = (long) n * d;
    if (x.length < len || out.length < len) {
      throw new IllegalArgumentException("expected " + n + " × " + d + " floats, got " + x.length + " in and "
          + out.length + " out");
    }
    if (r == null) {
      if (out != x) {
        System.arraycopy(x, 0, out, 0, (int) len);
      }
      return;
    }
    int from = 0;
    if (Simd.ENABLED && d >= Simd.LANES) {
      applyVector(x, n, out);
      from = d - d % Simd.LANES;
      if (from == d) {
        return;
      }
    }
    applyScalar(x, n, out, from);
  }

  /** Rows {@code k < d − d % L} of {@code R x_i} on the Vector API, blocked as the scalar loop. */
  private void applyVector(float[] x, int n, float[] out) {
    float[] t = rt;
    if (t == null) {
      t = VectorKernels.blockTranspose(r, 0, d, d);
      rt = t;
    }
    int lanes = Simd.LANES;
    int blocks = d / lanes;
    int rowBlocks = Math.max(1, ROW_BLOCK / lanes);
    for (int i0 = 0; i0 < n; i0 += VEC_BLOCK) {
      int i1 = Math.min(n, i0 + VEC_BLOCK);
      for (int b0 = 0; b0 < blocks; b0 += rowBlocks) {
        int b1 = Math.min(blocks, b0 + rowBlocks);
        for (int i = i0; i < i1; i++) {
          VectorKernels.dots(x, i * d, t, b0, b1, d, out, i * d);
        }
      }
    }
  }

  /** Rows {@code from ≤ k < d} of {@code R x_i} in scalar loops ({@link L2Kernel#dot4}, {@link L2Kernel#dot}). */
  private void applyScalar(float[] x, int n, float[] out, int from) {
    float[] d4 = new float[4];
    for (int i0 = 0; i0 < n; i0 += VEC_BLOCK) {
      int i1 = Math.min(n, i0 + VEC_BLOCK);
      for (int k0 = from; k0 < d; k0 += ROW_BLOCK) {
        int k1 = Math.min(d, k0 + ROW_BLOCK);
        int i = i0;
        for (; i + 3 < i1; i += 4) {
          int xo = i * d;
          for (int k = k0; k < k1; k++) {
            L2Kernel.dot4(r, k * d, x, xo, xo + d, xo + 2 * d, xo + 3 * d, d, d4);
            out[xo + k] = d4[0];
            out[xo + d + k] = d4[1];
            out[xo + 2 * d + k] = d4[2];
            out[xo + 3 * d + k] = d4[3];
          }
        }
        for (; i < i1; i++) {
          int xo = i * d;
          for (int k = k0; k < k1; k++) {
            out[xo + k] = L2Kernel.dot(r, k * d, x, xo, d);
          }
        }
      }
    }
  }

  @Override
  public String toString() {
    return r == null ? "Identity[d=" + d + "]" : "OPQRotation[d=" + d + "]";
  }
}
