package io.quarry.jobs.train;

import io.quarry.core.quant.train.SampleKeys;
import java.util.SplittableRandom;

/**
 * The seeded synthetic clustered unit vectors of the scale benchmarks ({@code bench-train}, {@code bench-build},
 * {@code bench-probe}): {@code clusters} Gaussian centres in {@code d} dimensions, and vector {@code i} a centre chosen
 * by {@code (seed, i)} plus N(0, 0.6²) noise per coordinate, L2-normalized. Vector {@code i} depends only on the seed,
 * the centres and {@code i}, so any executor can generate any range without the driver holding the data, and the
 * held-back queries of a benchmark over {@code n} vectors are vectors {@code n, n + 1, …} of the same distribution.
 */
public final class SyntheticVectors {
  private SyntheticVectors() {}

  /** The {@code clusters × d} centres (row-major), N(0, 1) per coordinate, from {@code seed}. */
  public static float[] centres(long seed, int clusters, int d) {
    float[] centres = new float[clusters * d];
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = 0; i < centres.length; i++) {
      centres[i] = (float) gaussian(rnd);
    }
    return centres;
  }

  /** Vector {@code i} ({@code d} floats, unit L2 norm): a centre plus Gaussian noise; depends only on (seed, i). */
  public static float[] vector(float[] centres, int clusters, int d, long seed, long i) {
    SplittableRandom rnd = new SplittableRandom(SampleKeys.mix(seed * 0x9E3779B97F4A7C15L + i));
    int c = rnd.nextInt(clusters);
    float[] v = new float[d];
    double norm = 0;
    for (int t = 0; t < d; t++) {
      v[t] = centres[c * d + t] + 0.6f * (float) gaussian(rnd);
      norm += v[t] * v[t];
    }
    float inv = (float) (1 / Math.sqrt(norm));
    for (int t = 0; t < d; t++) {
      v[t] *= inv;
    }
    return v;
  }

  /** The centre vector {@code i} was drawn around (the first draw of {@link #vector}'s generator). */
  public static int cluster(int clusters, long seed, long i) {
    return new SplittableRandom(SampleKeys.mix(seed * 0x9E3779B97F4A7C15L + i)).nextInt(clusters);
  }

  /** One N(0, 1) draw (Box–Muller, cosine branch). */
  public static double gaussian(SplittableRandom rnd) {
    double u1 = rnd.nextDouble();
    double u2 = rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
}
