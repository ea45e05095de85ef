package io.quarry.core.quant.train;

import io.quarry.core.quant.component.ProductQuantizer;
import java.io.Serializable;

/**
 * Leave-one-out estimate of a trained product quantizer's error on vectors it was <em>not</em> trained on, from its
 * own training vectors: the reference the drift check of incremental builds compares new vectors' error with
 * ({@code segments.driftMaxMseRatio}, metric {@code pq.mse.heldout} of the model).
 *
 * <p>Why: the in-sample error ({@code pq.mse}) is optimistic when there are few training vectors per codeword — the
 * codewords are the means of the very vectors measured. On the data-samples quick start (702 vectors for 256
 * codewords per sub-space) new vectors of the same collection had 2.1× the in-sample error, so any threshold on the
 * in-sample error either fires on every refresh of a small collection or never on a large one.
 *
 * <p>How: for a training sub-vector {@code y} whose nearest codeword {@code a} holds {@code n_a} training
 * sub-vectors, k-means without {@code y} would have put that codeword at {@code (n_a·b_a − y)/(n_a − 1)}, at squared
 * distance {@code (n_a/(n_a−1))²·||y − b_a||²} from {@code y} (the leave-one-out identity for a mean; none when
 * {@code n_a = 1}); the other codewords are taken as unchanged, so the leave-one-out error of {@code y} is the
 * smaller of that and its squared distance to the nearest other codeword. Summed over the {@code M} sub-vectors and
 * averaged over the vectors. Distances are {@link ProductQuantizer#l2Table}'s (exact differences); the nearest
 * codeword is the table's arg-min (lowest index on ties), in both passes.
 *
 * <p>Two passes over the same {@code rows × d} row-major training vectors (the PQ's training set: IVF residuals):
 * {@link #addCounts} (codeword occupancy, {@code M × ksub}, summed over partitions), then {@link #addBatch} with
 * those counts. Both mergeable, for Spark partials merged in partition order.
 */
public final class PqHeldOutError implements Serializable {
  private static final long serialVersionUID = 1L;
  private final long[] counts;
  private double sse;
  private long n;

  /**
   * @param counts occupancy of every codeword over the whole training set ({@link #addCounts} over all of it),
   *     {@code M × ksub}; not copied
   */
  public PqHeldOutError(long[] counts) {
    this.counts = counts;
  }

  /**
   * Pass 1: adds the number of the {@code rows} vectors whose sub-vector {@code m} is nearest to codeword {@code k}
   * into {@code into[m·ksub + k]}. Returns {@code into}.
   *
   * @throws IllegalArgumentException when {@code into} is not {@code M × ksub} long
   */
  public static long[] addCounts(ProductQuantizer pq, float[] y, int rows, long[] into) {
    int ksub = pq.ksub();
    checkShape(pq, into);
    forEachTable(pq, y, rows, table -> {
      for (int j = 0; j < pq.m(); j++) {
        into[j * ksub + argmin(table, j * ksub, ksub)]++;
      }
    });
    return into;
  }

  /** Pass 2: adds the leave-one-out error of {@code rows} training vectors ({@code rows × d}). Returns this. */
  public PqHeldOutError addBatch(ProductQuantizer pq, float[] y, int rows) {
    int ksub = pq.ksub();
    checkShape(pq, counts);
    forEachTable(pq, y, rows, table -> {
      for (int j = 0; j < pq.m(); j++) {
        int o = j * ksub;
        int a = argmin(table, o, ksub);
        double other = Double.POSITIVE_INFINITY;
        for (int k = 0; k < ksub; k++) {
          if (k != a && table[o + k] < other) {
            other = table[o + k];
          }
        }
        long na = counts[o + a];
        double own = na > 1 ? table[o + a] * ((double) na / (na - 1)) * ((double) na / (na - 1))
            : Double.POSITIVE_INFINITY;
        double e = Math.min(own, other);
        sse += Double.isInfinite(e) ? table[o + a] : e; // ksub = 1 and a lone vector: nothing to leave out to
      }
      n++;
    });
    return this;
  }

  /** Adds {@code other}'s sums (built with the same counts) into this. Returns this. */
  public PqHeldOutError merge(PqHeldOutError other) {
    sse += other.sse;
    n += other.n;
    return this;
  }

  /** The estimate: mean leave-one-out squared error per vector (0 when empty). */
  public double mse() {
    return n == 0 ? 0 : sse / n;
  }

  /** Both passes over {@code rows × d} training vectors held in memory. */
  public static double estimate(ProductQuantizer pq, float[] y, int rows) {
    long[] counts = addCounts(pq, y, rows, new long[pq.m() * pq.ksub()]);
    return new PqHeldOutError(counts).addBatch(pq, y, rows).mse();
  }

  private static void checkShape(ProductQuantizer pq, long[] counts) {
    if (counts.length != pq.m() * pq.ksub()) {
      throw new IllegalArgumentException("counts: expected " + pq.m() + " × " + pq.ksub() + ", got " + counts.length);
    }
  }

  /** Calls {@code f} with the {@link ProductQuantizer#l2Table} ({@code M × ksub}) of each of the {@code rows}. */
  private static void forEachTable(ProductQuantizer pq, float[] y, int rows,
      java.util.function.Consumer<float[]> f) {
    float[] table = new float[pq.m() * pq.ksub()];
    float[] row = new float[pq.dim()];
    for (int i = 0; i < rows; i++) {
      System.arraycopy(y, i * row.length, row, 0, row.length);
      pq.l2Table(row, table);
      f.accept(table);
    }
  }

  private static int argmin(float[] t, int from, int len) {
    int best = 0;
    for (int k = 1; k < len; k++) {
      if (t[from + k] < t[from + best]) {
        best = k;
      }
    }
    return best;
  }
}
