package io.quarry.jobs.train;

import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.train.EncodingStats;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function0;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * The Spark passes of quantizer training: per-vector work on batches of {@link #BATCH} rows of a partition ({@link
 * #mapBatches}, {@link #orderedBatchAggregate}) with the components' blocked kernels, per-partition partials merged on
 * the driver in partition order (so float sums do not depend on the order in which tasks finish), and the sample's
 * smallest keys ({@link #smallestKeys}).
 */
public final class OrderedBatches {
  /** Rows per batch in {@link #mapBatches}, {@link #orderedBatchAggregate} and {@link #encodingStats}. */
  public static final int BATCH = QuantizerModel.ENCODE_BLOCK;

  private OrderedBatches() {}

  /** A function of a batch of {@code rows × d} row-major vectors to {@code rows × d} vectors. */
  public interface BatchFunction extends java.io.Serializable {
    float[] apply(float[] x, int rows) throws Exception;
  }

  /** Adds a batch of {@code rows × d} row-major vectors ({@code x} may hold more floats) to an accumulator. */
  public interface BatchAdd<A> extends java.io.Serializable {
    A add(A acc, float[] x, int rows) throws Exception;
  }

  /**
   * Aggregates {@code rdd} like {@code aggregate}, but merges the per-partition results on the driver in partition
   * order, so floating-point sums do not depend on the order in which tasks finish (Spark's {@code reduce} /
   * {@code treeAggregate} merge in arrival order). One partial per partition reaches the driver.
   */
  public static <T, A extends java.io.Serializable> A orderedAggregate(JavaRDD<T> rdd, Function0<A> zero,
      Function2<A, T, A> seqOp, Function2<A, A, A> combOp) {
    List<A> partials = rdd.mapPartitions(it -> {
      A acc = zero.call();
      while (it.hasNext()) {
        acc = seqOp.call(acc, it.next());
      }
      return List.of(acc).iterator();
    }).collect();
    return mergeInOrder(partials, zero, combOp);
  }

  /** Merges per-partition partials on the driver in partition order (deterministic float sums). */
  private static <A> A mergeInOrder(List<A> partials, Function0<A> zero, Function2<A, A, A> combOp) {
    try {
      A total = zero.call();
      for (A p : partials) {
        total = combOp.call(total, p);
      }
      return total;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Maps the vectors of each partition in batches of {@link #BATCH} rows (blocked kernels instead of one vector at a
   * time); keys, order and partitioning are kept.
   */
  public static JavaPairRDD<Long, float[]> mapBatches(JavaPairRDD<Long, float[]> rdd, int d, BatchFunction fn) {
    return rdd.mapPartitionsToPair(it -> {
      List<Tuple2<Long, float[]>> out = new ArrayList<>();
      long[] keys = new long[BATCH];
      float[] x = new float[BATCH * d];
      int rows = 0;
      while (it.hasNext() || rows > 0) {
        if (it.hasNext()) {
          Tuple2<Long, float[]> t = it.next();
          keys[rows] = t._1();
          System.arraycopy(t._2(), 0, x, rows * d, d);
          rows++;
        }
        if (rows == BATCH || (!it.hasNext() && rows > 0)) {
          float[] y = fn.apply(x, rows);
          for (int i = 0; i < rows; i++) {
            out.add(new Tuple2<>(keys[i], java.util.Arrays.copyOfRange(y, i * d, (i + 1) * d)));
          }
          rows = 0;
        }
      }
      return out.iterator();
    }, true);
  }

  /**
   * {@link #orderedAggregate} over batches of {@link #BATCH} rows per partition: {@code add} sees {@code rows × d}
   * row-major blocks, in partition order; partials are merged on the driver in partition order.
   */
  public static <A extends java.io.Serializable> A orderedBatchAggregate(JavaRDD<float[]> rdd, int d,
      Function0<A> zero, BatchAdd<A> add, Function2<A, A, A> combOp) {
    List<A> partials = rdd.mapPartitions(it -> {
      A acc = zero.call();
      float[] x = new float[BATCH * d];
      int rows = 0;
      while (it.hasNext()) {
        System.arraycopy(it.next(), 0, x, rows * d, d);
        if (++rows == BATCH) {
          acc = add.add(acc, x, rows);
          rows = 0;
        }
      }
      if (rows > 0) {
        acc = add.add(acc, x, rows);
      }
      return List.of(acc).iterator();
    }).collect();
    return mergeInOrder(partials, zero, combOp);
  }

  /**
   * Encodes every vector with the broadcast model in batches ({@link QuantizerModel#encodeBatch}, the coarse
   * assignment's distances in MLlib's BLAS where {@link MllibBlasProducts#forCoarse} says so: same result bit for bit) and aggregates the
   * error and list sizes in partition order. The build stage encodes with the same {@code encodeBatch}.
   */
  public static EncodingStats encodingStats(JavaRDD<float[]> vectors, Broadcast<QuantizerModel> model) {
    int d = model.value().dim();
    int nlist = model.value().nlist();
    return orderedBatchAggregate(vectors, d, () -> new EncodingStats(nlist),
        (acc, x, rows) -> acc.addBatch(model.value().encodeBatch(x, rows, MllibBlasProducts.forCoarse(nlist))),
        EncodingStats::merge);
  }

  /**
   * Residuals {@code x_i − c_assign(x_i)} of a batch; the assignment's distances run in MLlib's BLAS where {@link
   * MllibBlasProducts#forCoarse} says so (same lists bit for bit).
   */
  static float[] residuals(CoarseQuantizer coarse, float[] x, int rows) {
    int[] lists = new int[rows];
    coarse.assign(x, rows, lists, MllibBlasProducts.forCoarse(coarse.nlist()));
    float[] r = new float[rows * coarse.dim()];
    coarse.residuals(x, rows, lists, r);
    return r;
  }

  /**
   * The records with the {@code cap} smallest keys (ties at the boundary key are all kept), in their input order and
   * partitioning. Only the keys of a pre-filtered candidate set ({@code takeOrdered}, at most ~1.1 × cap longs) reach
   * the driver.
   */
  static JavaPairRDD<Long, float[]> smallestKeys(JavaPairRDD<Long, float[]> keyed, long n, long cap) {
    long kmax = smallestKeyBound(keyed, n, cap);
    return keyed.filter(t -> t._1() <= kmax);
  }

  /** The {@code cap}-th smallest key of {@code keyed} ({@code n} records): the bound {@link #smallestKeys} keeps. */
  static long smallestKeyBound(JavaPairRDD<Long, float[]> keyed, long n, long cap) {
    if (cap > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("sample cap " + cap + " too large");
    }
    double frac = Math.min(1.0, (1.1 * cap + 6 * Math.sqrt(cap) + 100) / n);
    long thr = frac >= 1.0 ? Long.MAX_VALUE : (long) (frac * 0x1.0p63);
    List<Long> smallest = keyed.keys().filter(k -> k < thr).takeOrdered((int) cap);
    if (smallest.size() < cap) { // the pre-filter was too tight (vanishingly unlikely): no pre-filter
      smallest = keyed.keys().takeOrdered((int) cap);
    }
    return smallest.get(smallest.size() - 1);
  }
}
