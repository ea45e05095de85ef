package io.quarry.core.quant.train;

import java.util.random.RandomGenerator;

/**
 * The centroid update of one Lloyd iteration, shared by every k-means Quarry runs (the in-memory {@link KMeans}, the
 * PQ sub-quantizers' passes in {@link PqLloydStats} — the Spark trainer's PQ and OPQ passes and the in-memory OPQ —
 * and the final IVF step of the Spark trainer, {@link CentroidStats}): each centroid becomes the mean of its points,
 * then every empty cluster is re-seeded by splitting a large one as FAISS does ({@code faiss/Clustering.cpp},
 * {@code compute_centroids} then {@code split_clusters}).
 *
 * <p>FAISS's split rule, reproduced operation for operation except for the random generator (a seeded {@link
 * RandomGenerator} given by the caller, where FAISS uses its own {@code RandomGenerator}): for each empty centroid
 * {@code ci} in index order, walk {@code cj = 0, 1, …} cyclically and pick {@code cj} with probability {@code
 * (size_cj − 1) / (n − k)} (a uniform float below it); copy centroid {@code cj} into {@code ci} and perturb both
 * symmetrically per dimension, {@code EPS = 1/1024}: even dimensions {@code c_ci ·= 1 + EPS}, {@code c_cj ·= 1 −
 * EPS}, odd ones the other way round; then assume an even split of the sizes ({@code size_ci = size_cj / 2},
 * {@code size_cj −= size_ci}) so a later empty centroid does not pick the same cluster as readily. A cluster of one
 * point is never picked. The number of splits is returned (FAISS's {@code nsplit}; "larger is worse").
 */
public final class Lloyd {
  private Lloyd() {}

  /** FAISS's relative perturbation of a split ({@code EPS} in {@code faiss/Clustering.cpp}). */
  public static final double EPS = 1.0 / 1024;

  /**
   * The Lloyd update of {@code k} centroids of dimension {@code d} from their sums and counts, with empty clusters
   * split ({@link #split}).
   *
   * @param sums {@code k × d} sums of the assigned points (double, row-major) at {@code sums[so]}
   * @param counts points per centroid at {@code counts[cto]}; read only
   * @param centroids destination {@code k × d} floats at {@code centroids[co]}; an empty centroid's previous value
   *     is kept only when no cluster can be split (all clusters of ≤ 1 point)
   * @param n number of points ({@code Σ counts})
   * @param rnd seeded generator of the split choices
   * @return number of splits
   */
  public static int update(double[] sums, int so, long[] counts, int cto, int k, int d, float[] centroids, int co,
      long n, RandomGenerator rnd) {
    for (int j = 0; j < k; j++) {
      long cnt = counts[cto + j];
      if (cnt == 0) {
        continue;
      }
      for (int t = 0; t < d; t++) {
        centroids[co + j * d + t] = (float) (sums[so + j * d + t] / cnt);
      }
    }
    return split(centroids, co, k, d, counts, cto, n, rnd);
  }

  /**
   * FAISS's {@code split_clusters} (see the class comment) on {@code k × d} centroids at {@code c[co]}.
   *
   * @param counts cluster sizes at {@code counts[cto]}; not modified (the even-split bookkeeping runs on a copy)
   * @param n number of points
   * @param rnd seeded generator: one {@code nextFloat()} per candidate visited
   * @return number of splits (0 when no cluster is empty, or none has two points)
   */
  public static int split(float[] c, int co, int k, int d, long[] counts, int cto, long n, RandomGenerator rnd) {
    long[] size = null;
    int nsplit = 0;
    for (int ci = 0; ci < k; ci++) {
      if (counts[cto + ci] != 0) {
        continue;
      }
      if (size == null) {
        size = java.util.Arrays.copyOfRange(counts, cto, cto + k);
      }
      boolean splittable = false;
      for (long s : size) {
        splittable |= s >= 2;
      }
      if (!splittable) {
        break; // no cluster of two points left (only when n < k): the empty centroids keep their values
      }
      int cj = 0;
      while (true) {
        float p = (float) ((size[cj] - 1.0) / (float) (n - k));
        float r = rnd.nextFloat();
        if (r < p) {
          break;
        }
        cj = (cj + 1) % k;
      }
      int oi = co + ci * d;
      int oj = co + cj * d;
      System.arraycopy(c, oj, c, oi, d);
      for (int t = 0; t < d; t++) {
        if (t % 2 == 0) {
          c[oi + t] = (float) (c[oi + t] * (1 + EPS));
          c[oj + t] = (float) (c[oj + t] * (1 - EPS));
        } else {
          c[oi + t] = (float) (c[oi + t] * (1 - EPS));
          c[oj + t] = (float) (c[oj + t] * (1 + EPS));
        }
      }
      size[ci] = size[cj] / 2;
      size[cj] -= size[ci];
      nsplit++;
    }
    return nsplit;
  }
}
