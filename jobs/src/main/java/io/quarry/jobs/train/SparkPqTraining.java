package io.quarry.jobs.train;

import static io.quarry.jobs.train.OrderedBatches.orderedBatchAggregate;

import io.quarry.core.quant.component.ProductQuantizer;
import io.quarry.core.quant.component.VectorTransform;
import io.quarry.core.quant.train.OpqStats;
import io.quarry.core.quant.train.PartialSums;
import io.quarry.core.quant.train.PqHeldOutError;
import io.quarry.core.quant.train.PqLloydStats;
import io.quarry.core.quant.train.PqTraining;
import io.quarry.core.quant.train.QuantizerTrainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The PQ and OPQ of the Spark trainer over a cached, bounded training set: the Lloyd and rotation passes ({@link
 * PqTraining.Passes}) collected to the driver when the set fits {@code localPassBytes} ({@link PqTraining#inMemory}),
 * else one ordered Spark aggregation per pass; the loops themselves are {@link PqTraining}'s, shared with the
 * in-memory trainer. Both ways give the same model bits (the same per-partition sums merged in partition order).
 */
final class SparkPqTraining {
  private static final Logger LOG = LoggerFactory.getLogger(SparkPqTraining.class);

  private final JavaSparkContext jsc;
  private final QuantizerTrainer.Params params;
  private final long localPassBytes;

  SparkPqTraining(JavaSparkContext jsc, QuantizerTrainer.Params params, long localPassBytes) {
    this.jsc = jsc;
    this.params = params;
    this.localPassBytes = localPassBytes;
  }

  /**
   * Non-parametric OPQ on the (cached) sub-sample; returns the rotation: the initial PQ ({@link #trainPq}), then
   * {@link PqTraining#opq} (per iteration one {@link OpqStats} pass, Procrustes on the driver, {@link
   * QuantizerTrainer#OPQ_PQ_ITERATIONS} Lloyd passes updating all M codebooks at once), the passes from {@link
   * #passes}.
   */
  VectorTransform trainOpq(JavaPairRDD<Long, float[]> keyed, long size, int d, int m, int nbits,
      Map<String, Double> metrics) {
    PqTraining.Passes data = passes(keyed.values(), size, d, "OPQ");
    RandomGenerator rnd = PqTraining.splitRandom(params.seed(), "opq");
    PqTraining.PqResult init = trainPq(keyed, data, size, d, m, nbits, rnd, "OPQ's initial PQ");
    PqTraining.OpqResult res = PqTraining.opq(data, d, init.pq(), params.opqIterations(),
        QuantizerTrainer.OPQ_PQ_ITERATIONS, rnd, metrics);
    metrics.put("opq.splits", (double) (init.splits() + res.splits()));
    return res.rotation();
  }

  /**
   * Trains the M sub-quantizers together (FAISS's PQ training: random initialisation, then Lloyd): every
   * sub-codebook starts from the same {@code ksub} data vectors, those with the smallest sample keys (a seeded
   * random choice; FAISS seeds every sub-quantizer's k-means identically too), then up to {@code maxIter} Lloyd
   * passes ({@link PqTraining#lloyd} over {@code data}, {@link #passes}), each updating all M codebooks, until the
   * relative decrease of the error is below {@code tol}. Empty codewords are split from large ones as FAISS does
   * ({@link io.quarry.core.quant.train.Lloyd#split}, drawing from {@code rnd}).
   *
   * @param keyed sample key → vector ({@code d} floats), cached by the caller
   * @param data the passes over {@code keyed}'s vectors
   * @param size number of vectors in {@code keyed}, ≥ ksub
   */
  PqTraining.PqResult trainPq(JavaPairRDD<Long, float[]> keyed, PqTraining.Passes data, long size, int d, int m,
      int nbits, RandomGenerator rnd, String what) {
    int ksub = 1 << nbits;
    int dsub = d / m;
    long bound = OrderedBatches.smallestKeyBound(keyed, size, ksub);
    List<Tuple2<Long, float[]>> init = new ArrayList<>(keyed.filter(t -> t._1() <= bound).collect());
    init.sort(java.util.Comparator.comparing(Tuple2::_1));
    float[] codebooks = new float[m * ksub * dsub];
    for (int k = 0; k < ksub; k++) {
      float[] v = init.get(k)._2();
      for (int j = 0; j < m; j++) {
        System.arraycopy(v, j * dsub, codebooks, (j * ksub + k) * dsub, dsub);
      }
    }
    PqTraining.PqResult res = PqTraining.lloyd(data, null, new ProductQuantizer(m, nbits, dsub, codebooks),
        params.maxIter(), params.tol(), rnd);
    LOG.info("{}: {} Lloyd passes over {} vectors for {} sub-quantizers (mse {} before the last update, {} empty "
        + "codewords split)", what, res.passes(), size, m, res.mse(), res.splits());
    return res;
  }

  /**
   * {@link PqHeldOutError}: the leave-one-out estimate of {@code pq}'s error on vectors it was not trained on, from its
   * {@code rows × d} training residuals (two ordered passes: codeword occupancy, then the errors). Broadcasts go to
   * {@code toRelease}.
   */
  double heldOutError(JavaRDD<float[]> residuals, ProductQuantizer pq, List<Object> toRelease) {
    Broadcast<ProductQuantizer> bpq = jsc.broadcast(pq);
    toRelease.add(bpq);
    int d = pq.dim();
    int cells = pq.m() * pq.ksub();
    long[] occupancy = orderedBatchAggregate(residuals, d, () -> new long[cells],
        (acc, x, rows) -> PqHeldOutError.addCounts(bpq.value(), x, rows, acc), PartialSums::add);
    Broadcast<long[]> bocc = jsc.broadcast(occupancy);
    toRelease.add(bocc);
    return orderedBatchAggregate(residuals, d, () -> new PqHeldOutError(bocc.value()),
        (acc, x, rows) -> acc.addBatch(bpq.value(), x, rows), PqHeldOutError::merge).mse();
  }

  /**
   * The passes over the cached training set {@code x} ({@code size} vectors of {@code d} floats): in memory on the
   * driver when it fits {@code localPassBytes}, else one ordered Spark aggregation per pass. Either way the PQ
   * assignment's sub-vector × codebook products run in MLlib's native BLAS when it is loaded (same bits).
   */
  PqTraining.Passes passes(JavaRDD<float[]> x, long size, int d, String what) {
    if (size * d * 4L > localPassBytes) {
      LOG.info("{}: {} vectors × {} stay distributed for the Lloyd passes (one Spark job per pass)", what, size, d);
      return distributedPasses(x, d);
    }
    List<float[]> parts = x.mapPartitions(it -> {
      List<float[]> rows = new ArrayList<>();
      it.forEachRemaining(rows::add);
      float[] flat = new float[rows.size() * d];
      for (int i = 0; i < rows.size(); i++) {
        System.arraycopy(rows.get(i), 0, flat, i * d, d);
      }
      return List.of(flat).iterator();
    }).collect();
    int[] rows = new int[parts.size()];
    for (int p = 0; p < rows.length; p++) {
      rows[p] = parts.get(p).length / d;
    }
    LOG.info("{}: {} vectors × {} collected to the driver in {} partitions for the Lloyd passes", what, size, d,
        parts.size());
    return PqTraining.inMemory(parts, rows, d, OrderedBatches.BATCH, MllibBlasProducts.ifNative());
  }

  /** {@link PqTraining.Passes} as one {@link OrderedBatches#orderedBatchAggregate} per pass over {@code x}. */
  private PqTraining.Passes distributedPasses(JavaRDD<float[]> x, int d) {
    return new PqTraining.Passes() {
      @Override
      public PqLloydStats lloyd(VectorTransform rotation, ProductQuantizer pq) {
        Broadcast<VectorTransform> br = rotation == null ? null : jsc.broadcast(rotation);
        Broadcast<ProductQuantizer> bpq = jsc.broadcast(pq);
        int m = pq.m();
        int ksub = pq.ksub();
        int dsub = pq.dsub();
        try {
          return orderedBatchAggregate(x, d, () -> new PqLloydStats(m, ksub, dsub), (acc, v, rows) -> {
            float[] y = v;
            if (br != null) {
              y = new float[rows * d];
              br.value().apply(v, rows, y);
            }
            return acc.addBatch(y, rows, bpq.value(), MllibBlasProducts.ifNative());
          }, PqLloydStats::merge);
        } finally {
          bpq.destroy();
          if (br != null) {
            br.destroy();
          }
        }
      }

      @Override
      public OpqStats opq(VectorTransform rotation, ProductQuantizer pq) {
        Broadcast<VectorTransform> br = jsc.broadcast(rotation);
        Broadcast<ProductQuantizer> bpq = jsc.broadcast(pq);
        try {
          return orderedBatchAggregate(x, d, () -> new OpqStats(d),
              (acc, v, rows) -> acc.addBatch(v, rows, br.value(), bpq.value(), MllibBlasProducts.ifNative()),
              OpqStats::merge);
        } finally {
          br.destroy();
          bpq.destroy();
        }
      }
    };
  }
}
