package io.quarry.core.quant.train;

import io.quarry.core.quant.component.ProductQuantizer;
import io.quarry.core.quant.kernel.BlockProducts;
import io.quarry.core.quant.kernel.VectorMath;
import java.io.Serializable;
import java.util.random.RandomGenerator;

/**
 * Mergeable sufficient statistics of one Lloyd iteration for all {@code M} PQ sub-quantizers at once: for every
 * vector, each of its {@code M} sub-vectors is assigned to the nearest codeword of its sub-quantizer and added to that
 * codeword's sum. One pass over the data therefore serves all {@code M} k-means problems (instead of {@code M} passes),
 * which is how the Spark job runs the PQ training inside OPQ's alternation (per-partition partials merged in partition order,
 * then {@link #codebooks} on the driver).
 *
 * <p>Shapes: codebooks {@code M × ksub × dsub} row-major; sums in double, counts per codeword. The update ({@link
 * #update}) is {@link Lloyd#update} per sub-quantizer: means, then FAISS's split of a large codeword's cluster for
 * every empty one.
 */
public final class PqLloydStats implements Serializable {
  private static final long serialVersionUID = 1L;
  private final int m;
  private final int ksub;
  private final int dsub;
  private final double[] sums;
  private final long[] counts;
  private double sse;
  private long n;

  /** Empty statistics for {@code M} sub-quantizers of {@code ksub} codewords of {@code dsub} dimensions. */
  public PqLloydStats(int m, int ksub, int dsub) {
    this.m = m;
    this.ksub = ksub;
    this.dsub = dsub;
    this.sums = new double[m * ksub * dsub];
    this.counts = new long[m * ksub];
  }

  /** {@link #addBatch} of one vector ({@code M × dsub} floats). Returns this. */
  public PqLloydStats add(float[] y, ProductQuantizer pq) {
    return addBatch(y, 1, pq);
  }

  /**
   * Assigns each sub-vector of the {@code n × d} rows of {@code y} to its nearest codeword of {@code pq} (the same
   * kernel as encoding: {@link ProductQuantizer#subCodes}) and accumulates it. Returns this.
   *
   * @throws IllegalArgumentException when {@code pq}'s shape differs from these statistics'
   */
  public PqLloydStats addBatch(float[] y, int rows, ProductQuantizer pq) {
    return addBatch(y, rows, pq, null);
  }

  /**
   * {@link #addBatch(float[], int, ProductQuantizer)} with the sub-vector × codebook products in {@code gemm} (a BLAS
   * {@code sgemm}; {@link ProductQuantizer#subCodes(float[], int, int[], BlockProducts)}): the same assignments and
   * statistics bit for bit.
   *
   * @param gemm inner-product kernel; null: the reference kernel alone
   */
  public PqLloydStats addBatch(float[] y, int rows, ProductQuantizer pq, BlockProducts gemm) {
    if (pq.m() != m || pq.ksub() != ksub || pq.dsub() != dsub) {
      throw new IllegalArgumentException("PqLloydStats: quantizer " + pq + " does not match M=" + m + ", ksub="
          + ksub + ", dsub=" + dsub);
    }
    int d = m * dsub;
    int[] codes = new int[rows * m];
    pq.subCodes(y, rows, codes, gemm);
    float[] codeword = new float[dsub];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < m; j++) {
        int best = codes[i * m + j];
        int off = i * d + j * dsub;
        java.util.Arrays.fill(codeword, 0f);
        pq.addCodeword(j, best, codeword, 0);
        sse += VectorMath.l2sq(y, off, codeword, 0, dsub);
        counts[j * ksub + best]++;
        int so = (j * ksub + best) * dsub;
        for (int t = 0; t < dsub; t++) {
          sums[so + t] += y[off + t];
        }
      }
      n++;
    }
    return this;
  }

  /** Adds {@code other} into this (same shape). Returns this. */
  public PqLloydStats merge(PqLloydStats other) {
    if (other.sums.length != sums.length) {
      throw new IllegalArgumentException("PqLloydStats shape mismatch");
    }
    PartialSums.add(sums, other.sums);
    PartialSums.add(counts, other.counts);
    sse += other.sse;
    n += other.n;
    return this;
  }

  /**
   * The result of a Lloyd update.
   *
   * @param codebooks {@code M × ksub × dsub} updated codebooks
   * @param splits empty codewords re-seeded by a split, summed over the {@code M} sub-quantizers
   */
  public record Update(float[] codebooks, int splits) {}

  /**
   * Updated codebooks: per sub-quantizer {@link Lloyd#update} (the means, empty codewords split from large ones as
   * FAISS does); sub-quantizers in order {@code 0..M−1}, drawing from {@code rnd} in that order.
   *
   * @param previous the {@code M × ksub × dsub} codebooks the statistics were gathered with
   * @param rnd seeded generator of the split choices
   */
  public Update update(float[] previous, RandomGenerator rnd) {
    float[] out = previous.clone();
    int splits = 0;
    for (int j = 0; j < m; j++) {
      splits += Lloyd.update(sums, j * ksub * dsub, counts, j * ksub, ksub, dsub, out, j * ksub * dsub, n, rnd);
    }
    return new Update(out, splits);
  }

  /** Mean squared quantization error per vector under the codebooks used in {@link #add}. */
  public double mse() {
    return n == 0 ? 0 : sse / n;
  }

  /** Vectors added. */
  public long count() {
    return n;
  }
}
