package io.quarry.core.quant.kernel;

/**
 * A squared L2 distance with a fixed wide summation order, for steps that only need a fast, deterministic value —
 * the HNSW traversal over the IVF centroids ({@link io.quarry.core.quant.component.CentroidGraph}), the k-means++
 * seeding weights of the two-level IVF's level 2 ({@link io.quarry.core.quant.train.KMeans}) — and never for a value
 * that is stored or compared with {@link VectorMath#l2sq} (its bits differ from it).
 *
 * <p>The order: 32 partial sums {@code s[u]}, {@code u = t mod 32}, over {@code t < d − d mod 32} in increasing
 * {@code t} ({@code s[u] += (a_t − b_t)²}, separate multiply and add); the tail {@code t ≥ d − d mod 32} into {@code
 * s[t mod 32]}; then {@code v[l] = (s[l] + s[l+8]) + (s[l+16] + s[l+24])} for {@code l < 8} and {@code ((v0 + v1) +
 * (v2 + v3)) + ((v4 + v5) + (v6 + v7))}. On the Vector API ({@link Simd#ENABLED}) this is four 8-lane (256-bit)
 * accumulators — the same shape on AVX2 and AVX-512, so the same bits on either and in the scalar twin; about four
 * times the scalar kernel's speed at {@code d = 384} (independent accumulators instead of four dependency chains).
 */
public final class WideL2 {
  private WideL2() {}

  /** Partial sums of the order above. */
  static final int WIDTH = 32;

  /** Squared L2 distance of {@code a[ao, ao+d)} and {@code b[bo, bo+d)} in the order of the class comment. */
  public static float l2sq(float[] a, int ao, float[] b, int bo, int d) {
    return Simd.ENABLED ? VectorKernels.wideL2sq(a, ao, b, bo, d) : scalar(a, ao, b, bo, d);
  }

  /** The scalar twin of {@link VectorKernels#wideL2sq} (the same operations in the same order). */
  static float scalar(float[] a, int ao, float[] b, int bo, int d) {
    float[] s = new float[WIDTH];
    int main = d - d % WIDTH;
    for (int t = 0; t < main; t += WIDTH) {
      for (int u = 0; u < WIDTH; u++) {
        float df = a[ao + t + u] - b[bo + t + u];
        s[u] = s[u] + df * df;
      }
    }
    for (int t = main; t < d; t++) {
      float df = a[ao + t] - b[bo + t];
      s[t - main] = s[t - main] + df * df;
    }
    return reduce(s);
  }

  /** {@code ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7))}, {@code v[l] = (s[l] + s[l+8]) + (s[l+16] + s[l+24])}. */
  static float reduce(float[] s) {
    float[] v = new float[8];
    for (int l = 0; l < 8; l++) {
      v[l] = (s[l] + s[l + 8]) + (s[l + 16] + s[l + 24]);
    }
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
  }
}
