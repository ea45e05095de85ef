package io.quarry.core.quant;

import io.quarry.core.quant.kernel.VectorMath;
import java.util.Random;

/** Seeded synthetic data sets for quantizer tests. */
public final class TestData {
  private TestData() {}

  /** {@code n × d} points around {@code clusters} Gaussian centres (centre spread 1, noise sigma). */
  public static float[] clustered(int n, int d, int clusters, float sigma, long seed) {
    Random rnd = new Random(seed);
    float[] centres = new float[clusters * d];
    for (int i = 0; i < centres.length; i++) {
      centres[i] = (float) rnd.nextGaussian();
    }
    float[] x = new float[n * d];
    for (int i = 0; i < n; i++) {
      int c = rnd.nextInt(clusters);
      for (int t = 0; t < d; t++) {
        x[i * d + t] = centres[c * d + t] + sigma * (float) rnd.nextGaussian();
      }
    }
    return x;
  }

  /**
   * Strongly correlated data: {@code x = A z} with a random dense mixing matrix {@code A} and {@code z} of decaying
   * variance, so the energy is unevenly spread across PQ sub-spaces (the case OPQ is for).
   */
  public static float[] correlated(int n, int d, long seed) {
    Random rnd = new Random(seed);
    float[] a = new float[d * d];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) rnd.nextGaussian();
    }
    float[] x = new float[n * d];
    float[] z = new float[d];
    for (int i = 0; i < n; i++) {
      for (int t = 0; t < d; t++) {
        z[t] = (float) (rnd.nextGaussian() * Math.pow(0.8, t));
      }
      for (int r = 0; r < d; r++) {
        x[i * d + r] = VectorMath.dot(a, r * d, z, 0, d);
      }
    }
    return x;
  }

  public static float[] row(float[] x, int d, int i) {
    return java.util.Arrays.copyOfRange(x, i * d, (i + 1) * d);
  }

  public static void normalize(float[] x, int d) {
    for (int i = 0; i < x.length / d; i++) {
      double s = 0;
      for (int t = 0; t < d; t++) {
        s += x[i * d + t] * x[i * d + t];
      }
      float inv = (float) (1 / Math.sqrt(Math.max(s, 1e-30)));
      for (int t = 0; t < d; t++) {
        x[i * d + t] *= inv;
      }
    }
  }
}
