package io.quarry.core.quant.train;

import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.kernel.BlockProducts;
import io.quarry.core.quant.kernel.VectorMath;
import java.io.Serializable;

/**
 * Mergeable statistics of the IVF coarse quantizer over a set of transformed vectors: list sizes and the residual
 * energy {@code Σ ||xt − c_assign(xt)||²} (the {@code ivf.mse} metric). The Spark trainer gathers them after MLlib's
 * k-means to find the empty lists MLlib leaves behind (MLlib keeps an empty cluster's previous centre) and re-seeds
 * them with FAISS's split ({@link #split}). Memory: {@code 8 nlist} bytes per accumulator.
 */
public final class CoarseStats implements Serializable {
  private static final long serialVersionUID = 1L;
  private final long[] counts;
  /** {@code nlist × d} sums of the assigned vectors (double), or null when only the sizes are gathered. */
  private final double[] sums;
  private double sse;
  private long n;

  /** Empty statistics for {@code nlist} lists: sizes and residual energy only. */
  public CoarseStats(int nlist) {
    this.counts = new long[nlist];
    this.sums = null;
  }

  /**
   * Empty statistics that also sum the vectors of each list ({@code nlist × d} doubles: 12.6 MB at IVF4096 × 384),
   * for a Lloyd step ({@link #update}).
   */
  public CoarseStats(int nlist, int d) {
    this.counts = new long[nlist];
    this.sums = new double[nlist * d];
  }

  /**
   * Assigns {@code rows} transformed vectors ({@code rows × d}, row-major) with {@link CoarseQuantizer#assign(float[],
   * int, int[], BlockProducts)} and accumulates list sizes and squared residuals (each {@link VectorMath#l2sq},
   * summed in double in row order). Returns this.
   *
   * @param gemm inner-product kernel of the assignment (same lists bit for bit); null: the reference kernel
   */
  public CoarseStats addBatch(float[] xt, int rows, CoarseQuantizer coarse, BlockProducts gemm) {
    int d = coarse.dim();
    int[] lists = new int[rows];
    coarse.assign(xt, rows, lists, gemm);
    float[] c = new float[d];
    int last = -1;
    for (int i = 0; i < rows; i++) {
      int l = lists[i];
      if (l != last) {
        c = coarse.centroid(l);
        last = l;
      }
      sse += VectorMath.l2sq(xt, i * d, c, 0, d);
      counts[l]++;
      n++;
      if (sums != null) {
        int so = l * d;
        int xo = i * d;
        for (int t = 0; t < d; t++) {
          sums[so + t] += xt[xo + t];
        }
      }
    }
    return this;
  }

  /** Adds {@code other} into this (same nlist). Returns this. */
  public CoarseStats merge(CoarseStats other) {
    PartialSums.add(counts, other.counts);
    if (sums != null) {
      PartialSums.add(sums, other.sums);
    }
    sse += other.sse;
    n += other.n;
    return this;
  }

  /**
   * Result of a Lloyd step.
   *
   * @param centroids {@code nlist × d} updated centroids
   * @param splits empty lists re-seeded by a split
   */
  public record Update(float[] centroids, int splits) {}

  /**
   * One Lloyd step of the coarse quantizer from statistics gathered with sums: {@link Lloyd#update} (the means, then
   * FAISS's split of a large list for every empty one), as FAISS's {@code Clustering} iteration.
   *
   * @throws IllegalStateException when the statistics were gathered without sums
   */
  public Update update(CoarseQuantizer coarse, java.util.random.RandomGenerator rnd) {
    if (sums == null) {
      throw new IllegalStateException("CoarseStats gathered without sums: use new CoarseStats(nlist, d)");
    }
    float[] c = coarse.centroids();
    int splits = Lloyd.update(sums, 0, counts, 0, coarse.nlist(), coarse.dim(), c, 0, n, rnd);
    return new Update(c, splits);
  }

  /** Vectors per list (live array). */
  public long[] counts() {
    return counts;
  }

  /** Lists without a vector. */
  public int emptyLists() {
    int e = 0;
    for (long c : counts) {
      e += c == 0 ? 1 : 0;
    }
    return e;
  }

  /** Mean squared residual per vector. */
  public double mse() {
    return n == 0 ? 0 : sse / n;
  }

  /** Vectors added. */
  public long count() {
    return n;
  }

  /**
   * The centroids with every empty list re-seeded by FAISS's split of a large one ({@link Lloyd#split}, using these
   * list sizes); null when no list is empty.
   *
   * @param coarse the quantizer these statistics were gathered with
   * @param rnd seeded generator of the split choices
   */
  public float[] split(CoarseQuantizer coarse, java.util.random.RandomGenerator rnd) {
    if (emptyLists() == 0) {
      return null;
    }
    float[] c = coarse.centroids();
    Lloyd.split(c, 0, coarse.nlist(), coarse.dim(), counts, 0, n, rnd);
    return c;
  }
}
