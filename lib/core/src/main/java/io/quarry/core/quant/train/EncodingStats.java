package io.quarry.core.quant.train;

import io.quarry.core.quant.QuantizerModel;
import java.io.Serializable;

/**
 * Mergeable statistics of encoding a data set with a {@link QuantizerModel}: vectors, summed squared quantization
 * error and the size of each inverted list. Accumulated per Spark partition and merged in partition order.
 */
public final class EncodingStats implements Serializable {
  private static final long serialVersionUID = 1L;
  private final long[] listSizes;
  private double sse;
  private long n;

  /** @param nlist number of lists */
  public EncodingStats(int nlist) {
    this.listSizes = new long[nlist];
  }

  /** Counts one encoded vector. */
  public EncodingStats add(QuantizerModel.Encoded e) {
    return add(e.list(), e.squaredError());
  }

  /** Counts one vector encoded into {@code list} with squared quantization error {@code squaredError}. */
  public EncodingStats add(int list, float squaredError) {
    listSizes[list]++;
    sse += squaredError;
    n++;
    return this;
  }

  /** Counts {@code n} encoded vectors (the same sums, in the same order, as {@link #add} per row). */
  public EncodingStats addBatch(QuantizerModel.EncodedBatch b) {
    for (int i = 0; i < b.n(); i++) {
      listSizes[b.lists()[i]]++;
      sse += b.squaredErrors()[i];
      n++;
    }
    return this;
  }

  public EncodingStats merge(EncodingStats o) {
    PartialSums.add(listSizes, o.listSizes);
    sse += o.sse;
    n += o.n;
    return this;
  }

  /** Vectors encoded. */
  public long count() {
    return n;
  }

  /** Mean squared quantization error per vector ({@code ||R x − decode||²}, i.e. in the original space). */
  public double mse() {
    return n == 0 ? 0 : sse / n;
  }

  /** A copy of the list sizes. */
  public long[] listSizes() {
    return listSizes.clone();
  }

  /**
   * FAISS's imbalance factor {@code nlist × Σ size² / (Σ size)²}: 1 for perfectly balanced lists; the expected
   * number of codes scanned per probed list relative to the balanced case.
   */
  public double imbalanceFactor() {
    if (n == 0) {
      return 0;
    }
    double sq = 0;
    for (long s : listSizes) {
      sq += (double) s * s;
    }
    return listSizes.length * sq / ((double) n * n);
  }

  /** Number of empty lists. */
  public int emptyLists() {
    int e = 0;
    for (long s : listSizes) {
      if (s == 0) {
        e++;
      }
    }
    return e;
  }
}
