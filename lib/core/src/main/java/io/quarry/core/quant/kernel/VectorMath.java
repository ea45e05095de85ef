package io.quarry.core.quant.kernel;

/**
 * Small float-vector kernels over row-major arrays with offsets. Accumulation is in float, in index order, so results
 * are deterministic across runs and JVMs.
 */
public final class VectorMath {
  private VectorMath() {}

  /** Inner product of {@code a[ao, ao+n)} and {@code b[bo, bo+n)}. */
  public static float dot(float[] a, int ao, float[] b, int bo, int n) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      s0 += a[ao + i] * b[bo + i];
      s1 += a[ao + i + 1] * b[bo + i + 1];
      s2 += a[ao + i + 2] * b[bo + i + 2];
      s3 += a[ao + i + 3] * b[bo + i + 3];
    }
    for (; i < n; i++) {
      s0 += a[ao + i] * b[bo + i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /** Squared L2 distance between {@code a[ao, ao+n)} and {@code b[bo, bo+n)}. */
  public static float l2sq(float[] a, int ao, float[] b, int bo, int n) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      float d0 = a[ao + i] - b[bo + i];
      float d1 = a[ao + i + 1] - b[bo + i + 1];
      float d2 = a[ao + i + 2] - b[bo + i + 2];
      float d3 = a[ao + i + 3] - b[bo + i + 3];
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    for (; i < n; i++) {
      float d = a[ao + i] - b[bo + i];
      s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
  }

  /** Squared L2 distance of two whole vectors of equal length. */
  public static float l2sq(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("dimension mismatch: " + a.length + " vs " + b.length);
    }
    return l2sq(a, 0, b, 0, a.length);
  }

  /** Inner product of two whole vectors of equal length. */
  public static float dot(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("dimension mismatch: " + a.length + " vs " + b.length);
    }
    return dot(a, 0, b, 0, a.length);
  }
}
