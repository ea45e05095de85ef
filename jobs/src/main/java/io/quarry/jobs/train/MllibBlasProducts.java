package io.quarry.jobs.train;

import io.quarry.core.quant.kernel.BlockProducts;

/**
 * {@link BlockProducts} as one {@code sgemm} of the BLAS Spark MLlib uses ({@code
 * org.apache.spark.ml.linalg.BLAS.nativeBLAS()}: dev.ludovic.netlib's JNIBLAS over a native OpenBLAS when one is
 * loaded — {@code bin/install-native-blas}, docs/operations.md "Native BLAS" — else its Java fallback). The coarse
 * assignment of encoding and of the trainer's residual passes uses it to shortlist centroids; the result is the
 * reference kernel's, bit for bit ({@link io.quarry.core.quant.component.CoarseQuantizer#assign(float[], int, int[],
 * BlockProducts)}).
 */
public final class MllibBlasProducts implements BlockProducts {
  private static final long serialVersionUID = 1L;

  /** The shared instance (stateless). */
  public static final MllibBlasProducts INSTANCE = new MllibBlasProducts();

  private MllibBlasProducts() {}

  /** Whether MLlib loaded a native BLAS (JNIBLAS) in this JVM. */
  public static boolean nativeLoaded() {
    return org.apache.spark.ml.linalg.BLAS$.MODULE$.nativeBLAS() instanceof dev.ludovic.netlib.blas.NativeBLAS;
  }

  /**
   * The kernel for this JVM: this one when MLlib loaded a native BLAS, else null (the reference Java kernel, which is
   * faster than a Java {@code sgemm} plus the shortlist check).
   */
  public static BlockProducts ifNative() {
    return nativeLoaded() ? INSTANCE : null;
  }

  /**
   * The kernel for the coarse assignment of {@code nlist} lists ({@link
   * io.quarry.core.quant.component.CoarseQuantizer#assign(float[], int, int[], BlockProducts)}): this one when MLlib
   * loaded a native BLAS, or from {@link io.quarry.core.quant.component.CoarseQuantizer#graphMinNlist()} lists on
   * with MLlib's Java {@code sgemm} too (at 16,384 × 384 it costs 326 µs per vector on one thread against the
   * reference kernel's 3,024: bench-probe {@code --assign}); else null (the reference kernel). The lists are the
   * same whichever is chosen.
   */
  public static BlockProducts forCoarse(int nlist) {
    return nativeLoaded() || nlist >= io.quarry.core.quant.component.CoarseQuantizer.graphMinNlist() ? INSTANCE
        : null;
  }

  @Override
  public void products(float[] x, int n, float[] c, int k, int d, float[] out) {
    // column-major view: out (k × n, ld k) = c^T (k × d; c is row-major k × d, i.e. column-major d × k, transposed)
    // times x (d × n; x is row-major n × d, i.e. column-major d × n)
    org.apache.spark.ml.linalg.BLAS$.MODULE$.nativeBLAS().sgemm("T", "N", k, n, d, 1f, c, d, x, d, 0f, out, k);
  }

  private Object readResolve() {
    return INSTANCE;
  }
}
