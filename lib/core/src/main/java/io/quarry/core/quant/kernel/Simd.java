package io.quarry.core.quant.kernel;

/**
 * Whether the ADC kernels run on the Vector API ({@link VectorKernels}, {@code jdk.incubator.vector}) or on their
 * scalar loops, and whether {@link io.quarry.core.quant.ivf.LutScan} may run. Both give the same bits (each vector lane performs the scalar
 * loop's float operations in the scalar loop's order, without fused multiply-add), so results never depend on this
 * switch: only speed does.
 *
 * <p>On when the JVM was started with {@code --add-modules jdk.incubator.vector} ({@code bin/quarry},
 * {@code bin/quarry-serve}, the Maven tests and benchmarks add it) and the system property {@code quarry.simd} is not
 * {@code false}; the scalar loops serve any other JVM (e.g. a Spark executor started without the flag).
 */
public final class Simd {
  private Simd() {}

  /** True when {@link VectorKernels} may be used (the class is never loaded otherwise). */
  public static final boolean ENABLED = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
      && !"false".equalsIgnoreCase(System.getProperty("quarry.simd"));

  /** Float lanes of the preferred vector shape (16 with AVX-512, 8 with AVX2), or 1 when {@link #ENABLED} is false. */
  public static final int LANES = ENABLED ? VectorKernels.lanes() : 1;
}
