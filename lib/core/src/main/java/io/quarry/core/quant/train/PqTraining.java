package io.quarry.core.quant.train;

import io.quarry.core.quant.component.ProductQuantizer;
import io.quarry.core.quant.component.VectorTransform;
import io.quarry.core.quant.kernel.BlockProducts;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.random.RandomGenerator;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PQ Lloyd passes and OPQ's alternation, written once over an abstract training set ({@link Passes}): the
 * in-memory trainer ({@link QuantizerTrainer}) and the Spark trainer ({@code SparkQuantizerTrainer}: distributed
 * passes over a cached RDD, or {@link #inMemory} passes over the collected partitions of a bounded sample) run this
 * code, so they differ only in where a pass's statistics are summed.
 *
 * <p>A pass's statistics are summed per partition in row order and the partials merged in partition order (each
 * into a fresh zero accumulator, as {@code OrderedBatches.orderedBatchAggregate} does); {@link PqLloydStats}
 * and {@link OpqStats} accumulate row by row, so the result does not depend on how a partition is cut into batches.
 * Hence {@link #inMemory} over a sample's partitions gives the bits of the distributed passes over the same
 * partitions.
 */
public final class PqTraining {
  private static final Logger LOG = LoggerFactory.getLogger(PqTraining.class);

  private PqTraining() {}

  /**
   * The seeded generator of a training stage's split choices ({@link Lloyd#split}): {@code stage} names it ({@code
   * "opq"}, {@code "pq"}, {@code "ivf"}), so the stages draw independent streams from one seed.
   */
  public static RandomGenerator splitRandom(long seed, String stage) {
    return new java.util.SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (stage.hashCode() | 1L)));
  }

  /** One pass over a training set of {@code n × d} vectors. */
  public interface Passes {
    /**
     * Lloyd statistics of all M sub-quantizers of {@code pq} over the training vectors, rotated by {@code rotation}
     * first when it is not null.
     */
    PqLloydStats lloyd(VectorTransform rotation, ProductQuantizer pq);

    /** OPQ's rotation statistics ({@link OpqStats}) of the raw training vectors under {@code rotation} and {@code pq}. */
    OpqStats opq(VectorTransform rotation, ProductQuantizer pq);
  }

  /**
   * Result of {@link #lloyd}.
   *
   * @param pq the updated quantizer
   * @param passes Lloyd passes run
   * @param mse mean squared error per vector measured by the last pass (under the codebooks before its update)
   * @param splits empty codewords re-seeded by a split ({@link Lloyd#split}), over all passes and sub-quantizers
   */
  public record PqResult(ProductQuantizer pq, int passes, double mse, int splits) {}

  /**
   * Up to {@code maxIter} Lloyd passes updating all M codebooks per pass ({@link PqLloydStats#update}: means, then
   * FAISS's split of empty codewords); stops after a pass (from the second on) whose error decreased by less than
   * {@code tol} relative ({@code Double.NEGATIVE_INFINITY}: exactly {@code maxIter} passes).
   *
   * @param rotation applied to the vectors first; null: none
   * @param rnd seeded generator of the split choices
   */
  public static PqResult lloyd(Passes data, VectorTransform rotation, ProductQuantizer pq, int maxIter, double tol,
      RandomGenerator rnd) {
    double prev = Double.POSITIVE_INFINITY;
    int it = 0;
    int splits = 0;
    while (it < maxIter) {
      it++;
      PqLloydStats stats = data.lloyd(rotation, pq);
      PqLloydStats.Update u = stats.update(pq.codebooks(), rnd);
      splits += u.splits();
      pq = new ProductQuantizer(pq.m(), pq.nbits(), pq.dsub(), u.codebooks());
      double obj = stats.mse();
      boolean converged = it > 1 && prev - obj <= tol * prev;
      prev = obj;
      if (converged) {
        break;
      }
    }
    return new PqResult(pq, it, prev, splits);
  }

  /**
   * Result of {@link #opq}.
   *
   * @param rotation the {@code d × d} rotation {@code R}
   * @param pq the PQ of the last alternation (on {@code R x})
   * @param splits empty codewords split in its Lloyd passes
   */
  public record OpqResult(VectorTransform rotation, ProductQuantizer pq, int splits) {}

  /**
   * Non-parametric OPQ (Ge et al., CVPR 2013; FAISS {@code OPQMatrix::train}) from {@code R = I} and the initial
   * quantizer {@code pq}: {@code iterations} times one {@link OpqStats} pass (metric {@code opq.mse.iter<i>}: the PQ
   * error before the update), Procrustes {@code R = V Uᵀ}, then {@code pqIterations} Lloyd passes on {@code R x}.
   *
   * @param metrics receives {@code opq.mse.iter<i>}
   */
  public static OpqResult opq(Passes data, int d, ProductQuantizer pq, int iterations, int pqIterations,
      RandomGenerator rnd, Map<String, Double> metrics) {
    VectorTransform r = VectorTransform.rotation(Procrustes.identity(d), d);
    int splits = 0;
    for (int it = 0; it < iterations; it++) {
      OpqStats stats = data.opq(r, pq);
      metrics.put(String.format(Locale.ROOT, "opq.mse.iter%02d", it), stats.mse());
      LOG.info("OPQ iteration {}: PQ mse {}", it, stats.mse());
      r = VectorTransform.rotation(Procrustes.rotation(stats.crossCovariance(), d), d);
      PqResult res = lloyd(data, r, pq, pqIterations, Double.NEGATIVE_INFINITY, rnd);
      pq = res.pq();
      splits += res.splits();
    }
    return new OpqResult(r, pq, splits);
  }

  /**
   * Passes over vectors held in memory as partitions ({@code parts.get(p)}: {@code rows[p] × d} floats, row-major),
   * each summed in row order in blocks of {@code block} rows, the partitions in parallel, merged in partition order.
   * The rotation of the training set under the last rotation seen is kept (as many floats again as the set), so
   * OPQ's Lloyd passes and its next statistics pass under one {@code R} rotate the set once, not once per pass (same
   * bits: a vector's rotation does not depend on its batch).
   *
   * @param gemm sub-vector × codebook products ({@link ProductQuantizer#subCodes(float[], int, int[],
   *     BlockProducts)}; same bits as without); null: the reference kernel alone
   */
  public static Passes inMemory(List<float[]> parts, int[] rows, int d, int block, BlockProducts gemm) {
    return new Passes() {
      private VectorTransform rotated;
      private List<float[]> rotatedParts;

      /** {@code parts} under {@code rotation} (kept for the next call with the same rotation). */
      private synchronized List<float[]> rotate(VectorTransform rotation) {
        if (rotation != rotated) {
          rotatedParts = null; // let the previous rotation's copy go before the next is made
          rotatedParts = IntStream.range(0, parts.size()).parallel().mapToObj(p -> {
            float[] y = new float[rows[p] * d];
            rotation.apply(parts.get(p), rows[p], y);
            return y;
          }).toList();
          rotated = rotation;
        }
        return rotatedParts;
      }

      @Override
      public PqLloydStats lloyd(VectorTransform rotation, ProductQuantizer pq) {
        int m = pq.m();
        int ksub = pq.ksub();
        int dsub = pq.dsub();
        List<float[]> y = rotation == null ? parts : rotate(rotation);
        List<PqLloydStats> partials = perPartition(y, rows, d, block, () -> new PqLloydStats(m, ksub, dsub),
            (acc, p, i0, yb, n) -> acc.addBatch(yb, n, pq, gemm));
        PqLloydStats total = new PqLloydStats(m, ksub, dsub);
        for (PqLloydStats p : partials) {
          total.merge(p);
        }
        return total;
      }

      @Override
      public OpqStats opq(VectorTransform rotation, ProductQuantizer pq) {
        List<float[]> y = rotate(rotation);
        List<OpqStats> partials = perPartition(parts, rows, d, block, () -> new OpqStats(d), (acc, p, i0, xb, n) -> {
          float[] yb = java.util.Arrays.copyOfRange(y.get(p), i0 * d, (i0 + n) * d);
          return acc.addRotatedBatch(xb, yb, n, pq, gemm);
        });
        OpqStats total = new OpqStats(d);
        for (OpqStats p : partials) {
          total.merge(p);
        }
        return total;
      }
    };
  }

  private interface BlockAdd<A> {
    /** Adds rows {@code [i0, i0 + n)} of partition {@code p}, copied to {@code x}. */
    A add(A acc, int p, int i0, float[] x, int n);
  }

  private static <A> List<A> perPartition(List<float[]> parts, int[] rows, int d, int block,
      java.util.function.Supplier<A> zero, BlockAdd<A> add) {
    return new ArrayList<>(IntStream.range(0, parts.size()).parallel().mapToObj(p -> {
      A acc = zero.get();
      float[] x = parts.get(p);
      float[] b = new float[Math.min(block, Math.max(rows[p], 1)) * d];
      for (int i0 = 0; i0 < rows[p]; i0 += block) {
        int n = Math.min(block, rows[p] - i0);
        System.arraycopy(x, i0 * d, b, 0, n * d);
        acc = add.add(acc, p, i0, b, n);
      }
      return acc;
    }).toList());
  }
}
