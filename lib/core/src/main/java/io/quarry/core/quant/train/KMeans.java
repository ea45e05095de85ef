package io.quarry.core.quant.train;

import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.kernel.BlockProducts;
import io.quarry.core.quant.kernel.VectorMath;
import io.quarry.core.quant.kernel.WideL2;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * In-memory k-means (Lloyd, "Least squares quantization in PCM", IEEE TIT 1982) with k-means++ seeding (Arthur and
 * Vassilvitskii, SODA 2007), squared L2. Used by the Spark-free {@link QuantizerTrainer} (tests, benchmarks, small
 * corpora); the Spark job trains with MLlib's {@code KMeans} instead.
 *
 * <p>Deterministic: the same data, parameters and seed give the same centroids bit for bit (sums are accumulated in
 * double, in point order). Rules for degenerate inputs: fewer points than {@code k} is an error; an empty cluster
 * after an iteration is re-seeded by splitting a large one as FAISS does ({@link Lloyd#split}, with the run's seeded
 * generator; the count is {@link Result#splits}); duplicate points may yield duplicate centroids, in which case
 * encoding picks the lowest index.
 */
public final class KMeans {
  private KMeans() {}

  /**
   * Result of a run.
   *
   * @param centroids {@code k × d}, row-major
   * @param iterations Lloyd iterations run
   * @param mse mean squared distance of the points to their nearest centroid after the last update
   * @param splits empty clusters re-seeded by splitting a large one, over all iterations ({@link Lloyd#split})
   */
  public record Result(float[] centroids, int iterations, double mse, int splits) {}

  /**
   * Clusters {@code n × d} points.
   *
   * @param x points, row-major, at least {@code n × d} floats
   * @param n number of points, ≥ k
   * @param d dimension, ≥ 1
   * @param k clusters, ≥ 1
   * @param maxIter maximum Lloyd iterations, ≥ 0 (0 returns the k-means++ seeds)
   * @param tol stop when the relative decrease of the objective is below {@code tol}
   * @param seed seed of k-means++ seeding
   * @throws IllegalArgumentException when {@code n < k} or an argument is out of range
   */
  public static Result train(float[] x, int n, int d, int k, int maxIter, double tol, long seed) {
    return train(x, n, d, k, maxIter, tol, seed, VectorMath::l2sq, KMeans::assignAll);
  }

  /**
   * {@link #train(float[], int, int, int, int, double, long)} whose assignment step is the coarse quantizer's exact
   * one ({@link CoarseQuantizer#assignExact}: key {@code ||c||² − 2 x·c}, lowest index on ties — the order the index
   * assigns vectors to lists by), its products through {@code gemm} when given (a BLAS {@code sgemm}: level-3 speed
   * for the {@code n × k × d} part of each pass; the centroids are the same bit for bit with or without it). Used by
   * the two-level IVF's level 2, where the points per cluster times k dominate the training cost. Its k-means++
   * seeding measures distances with {@link WideL2#l2sq} (a fixed eight-lane order: the same bits on every CPU, about
   * four times the scalar kernel's speed), so its seeds can differ from the other {@code train}'s.
   *
   * @param gemm inner-product kernel, or null (the reference kernel)
   * @throws IllegalArgumentException as the other {@code train}
   */
  public static Result train(float[] x, int n, int d, int k, int maxIter, double tol, long seed,
      BlockProducts gemm) {
    return train(x, n, d, k, maxIter, tol, seed, WideL2::l2sq, (xs, nn, dd, c, kk, assign) -> {
      CoarseQuantizer.ivf(c, kk, dd).assignExact(xs, nn, assign, gemm);
      double obj = 0;
      for (int i = 0; i < nn; i++) {
        obj += VectorMath.l2sq(xs, i * dd, c, assign[i] * dd, dd);
      }
      return obj;
    });
  }

  /** An assignment step: fills {@code assign} (n) with each point's centroid; returns the sum of squared distances. */
  private interface Assignment {
    double assign(float[] x, int n, int d, float[] c, int k, int[] assign);
  }

  /** A squared L2 distance of {@code a[ao, ao+d)} and {@code b[bo, bo+d)} (the k-means++ seeding's kernel). */
  private interface Distance {
    float l2sq(float[] a, int ao, float[] b, int bo, int d);
  }

  private static Result train(float[] x, int n, int d, int k, int maxIter, double tol, long seed,
      Distance seeding, Assignment assignment) {
    if (k < 1 || d < 1 || maxIter < 0) {
      throw new IllegalArgumentException("k-means: k, d must be >= 1 and maxIter >= 0 (k=" + k + ", d=" + d
          + ", maxIter=" + maxIter + ")");
    }
    if (n < k) {
      throw new IllegalArgumentException("k-means: " + n + " training points for " + k
          + " centroids; need at least as many points as centroids");
    }
    if ((long) n * d > x.length) {
      throw new IllegalArgumentException("k-means: expected " + n + " × " + d + " floats, got " + x.length);
    }
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] c = seedPlusPlus(x, n, d, k, rnd, seeding);
    int[] assign = new int[n];
    double obj = assignment.assign(x, n, d, c, k, assign);
    int it = 0;
    int splits = 0;
    while (it < maxIter) {
      it++;
      splits += update(x, n, d, c, k, assign, rnd);
      double next = assignment.assign(x, n, d, c, k, assign);
      boolean converged = obj - next <= tol * obj;
      obj = next;
      if (converged) {
        break;
      }
    }
    return new Result(c, it, obj / n, splits);
  }

  /** Nearest centroid of point {@code i} (lowest index on ties). */
  public static int nearest(float[] x, int xo, float[] c, int k, int d) {
    int best = 0;
    float bestD = Float.POSITIVE_INFINITY;
    for (int j = 0; j < k; j++) {
      float dist = VectorMath.l2sq(x, xo, c, j * d, d);
      if (dist < bestD) {
        bestD = dist;
        best = j;
      }
    }
    return best;
  }

  private static double assignAll(float[] x, int n, int d, float[] c, int k, int[] assign) {
    double obj = 0;
    for (int i = 0; i < n; i++) {
      int a = nearest(x, i * d, c, k, d);
      assign[i] = a;
      obj += VectorMath.l2sq(x, i * d, c, a * d, d);
    }
    return obj;
  }

  private static int update(float[] x, int n, int d, float[] c, int k, int[] assign, SplittableRandom rnd) {
    double[] sums = new double[k * d];
    long[] counts = new long[k];
    for (int i = 0; i < n; i++) {
      int a = assign[i];
      counts[a]++;
      int so = a * d;
      int xo = i * d;
      for (int t = 0; t < d; t++) {
        sums[so + t] += x[xo + t];
      }
    }
    return Lloyd.update(sums, 0, counts, 0, k, d, c, 0, n, rnd);
  }

  private static float[] seedPlusPlus(float[] x, int n, int d, int k, SplittableRandom rnd, Distance l2) {
    float[] c = new float[k * d];
    int first = rnd.nextInt(n);
    System.arraycopy(x, first * d, c, 0, d);
    double[] dist = new double[n];
    double total = 0;
    for (int i = 0; i < n; i++) {
      dist[i] = l2.l2sq(x, i * d, c, 0, d);
      total += dist[i];
    }
    for (int j = 1; j < k; j++) {
      int pick;
      if (total <= 0) {
        pick = rnd.nextInt(n); // all remaining points coincide with chosen centroids
      } else {
        double r = rnd.nextDouble() * total;
        pick = n - 1;
        double acc = 0;
        for (int i = 0; i < n; i++) {
          acc += dist[i];
          if (acc > r) {
            pick = i;
            break;
          }
        }
      }
      System.arraycopy(x, pick * d, c, j * d, d);
      total = 0;
      for (int i = 0; i < n; i++) {
        double nd = l2.l2sq(x, i * d, c, j * d, d);
        if (nd < dist[i]) {
          dist[i] = nd;
        }
        total += dist[i];
      }
    }
    return c;
  }

  /** Copies dimensions {@code [from, from+len)} of each of the {@code n × d} rows into an {@code n × len} array. */
  public static float[] slice(float[] x, int n, int d, int from, int len) {
    float[] out = new float[n * len];
    for (int i = 0; i < n; i++) {
      System.arraycopy(x, i * d + from, out, i * len, len);
    }
    return out;
  }

  static float[] copyRows(float[] x, int d, int[] rows) {
    float[] out = new float[rows.length * d];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(x, rows[i] * d, out, i * d, d);
    }
    return out;
  }

  static int[] range(int n) {
    int[] r = new int[n];
    Arrays.setAll(r, i -> i);
    return r;
  }
}
