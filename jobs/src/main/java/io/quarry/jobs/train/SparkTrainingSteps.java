package io.quarry.jobs.train;

import static io.quarry.jobs.train.OrderedBatches.mapBatches;
import static io.quarry.jobs.train.OrderedBatches.orderedBatchAggregate;
import static io.quarry.jobs.train.OrderedBatches.smallestKeyBound;

import io.quarry.core.config.QuantizerConfig;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.component.ProductQuantizer;
import io.quarry.core.quant.component.VectorTransform;
import io.quarry.core.quant.train.CoarseStats;
import io.quarry.core.quant.train.PqTraining;
import io.quarry.core.quant.train.QuantizerTrainer;
import io.quarry.core.quant.train.SampleKeys;
import io.quarry.core.quant.train.TrainingSteps;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The {@link TrainingSteps} on Spark, over sample key → vector pairs (see {@link SparkQuantizerTrainer} for what each
 * step does and costs). One object per training run: the steps keep the cached RDDs and broadcasts in {@link
 * #toRelease} ({@link #release}), and the wall and CPU time of each step ({@link #times}, {@link #cpu}; the list
 * counting is timed with {@code pq}).
 */
final class SparkTrainingSteps extends TrainingSteps<JavaPairRDD<Long, float[]>> {
  private static final Logger LOG = LoggerFactory.getLogger(SparkTrainingSteps.class);

  private final SparkQuantizerTrainer trainer;
  private final JavaSparkContext jsc;
  private final JavaPairRDD<String, float[]> vectors;
  private final long n;
  private final SparkPqTraining pqTraining;
  private final MllibIvf mllib;
  private final List<Object> toRelease = new ArrayList<>();
  final Map<String, Double> times = new LinkedHashMap<>();
  final Map<String, Double> cpu = new LinkedHashMap<>();
  private double cpuSince = SparkQuantizerTrainer.processCpuSeconds();
  private long since = System.nanoTime();

  long sampleSize;
  /** The PQ/OPQ training set: the sample vectors with the {@code subCap} smallest keys, and its size. */
  private JavaPairRDD<Long, float[]> subKeyed;
  long subSize;
  private long subCap;
  private boolean subsampled;
  /**
   * Lists were split after the count: {@code ivf.mse} is then the residual energy over the PQ training set (a
   * sample of the sample, residuals under the final lists) instead of a second counting pass over the whole sample.
   */
  private boolean ivfMseOnPqSet;
  private long subKmax = Long.MAX_VALUE;
  private Broadcast<CoarseQuantizer> coarseBroadcast;

  SparkTrainingSteps(SparkQuantizerTrainer trainer, JavaPairRDD<String, float[]> vectors, int d, long n) {
    super(trainer.spec, trainer.metric, trainer.params, d);
    this.trainer = trainer;
    this.jsc = JavaSparkContext.fromSparkContext(trainer.spark.sparkContext());
    this.vectors = vectors;
    this.n = n;
    this.pqTraining = new SparkPqTraining(jsc, params, trainer.localPassBytes);
    this.mllib = new MllibIvf(trainer.spark, trainer.ivf, params.tol());
  }

  /**
   * The vectors with the {@code cap} smallest keys, kept in input order and partitioning (a sort would make the
   * partitioning, and so MLlib's k-means|| sampling, depend on RDD ids); then the OPQ/PQ sub-sample: the sample
   * vectors with the {@code subCap} smallest keys (FAISS's cap for each PQ sub-quantizer; one key bound serves both,
   * and OPQ requires a PQ encoding, so a Flat spec never needs it).
   */
  @Override
  protected JavaPairRDD<Long, float[]> sample() {
    long cap = QuantizerTrainer.sampleCap(spec, params.maxPointsPerCentroid());
    long seed = params.seed();
    JavaPairRDD<Long, float[]> keyed =
        vectors.mapToPair(t -> new Tuple2<>(SampleKeys.key(seed, t._1()) >>> 1, t._2()));
    JavaPairRDD<Long, float[]> sampleKeyed = n <= cap ? keyed : OrderedBatches.smallestKeys(keyed, n, cap);
    // the whole input is the sample and the caller has cached it: the keys are a cheap hash, so recompute them
    // rather than cache a second copy of every vector (1.5 GB at 1M × 384)
    if (!(n <= cap && vectors.getStorageLevel().useMemory())) {
      sampleKeyed = persist(sampleKeyed);
    }
    sampleSize = n <= cap ? n : sampleKeyed.count();
    LOG.info("quantizer {}: sample {} of {} vectors (cap {})", spec, sampleSize, n, cap);
    subCap = (long) params.maxPointsPerCentroid() * spec.ksub();
    subsampled = !spec.isFlat() && sampleSize > subCap;
    subKeyed = sampleKeyed;
    if (subsampled) {
      long bound = smallestKeyBound(sampleKeyed, sampleSize, subCap);
      subKmax = bound;
      subKeyed = persist(sampleKeyed.filter(t -> t._1() <= bound));
    }
    subSize = subsampled ? subKeyed.count() : sampleSize;
    return sampleKeyed;
  }

  @Override
  protected VectorTransform opq(JavaPairRDD<Long, float[]> sample) {
    return pqTraining.trainOpq(subKeyed, subSize, d, spec.opqM(), spec.nbits(), metrics);
  }

  /** The rotated sample, cached and materialised inside the OPQ step's time. */
  @Override
  protected JavaPairRDD<Long, float[]> rotate(JavaPairRDD<Long, float[]> sample, VectorTransform rotation) {
    Broadcast<VectorTransform> br = jsc.broadcast(rotation);
    toRelease.add(br);
    int dim = d;
    JavaPairRDD<Long, float[]> xtKeyed = persist(mapBatches(sample, d, (x, rows) -> {
      float[] y = new float[rows * dim];
      br.value().apply(x, rows, y);
      return y;
    }));
    xtKeyed.count();
    return xtKeyed;
  }

  /** MLlib's k-means on the rotated sample: two-level, from an initial sub-sample, or one fit. */
  @Override
  protected float[] ivf(JavaPairRDD<Long, float[]> xtKeyed) {
    int nlist = spec.effectiveNlist();
    long seed = params.seed();
    SparkQuantizerTrainer.IvfOptions ivf = trainer.ivf;
    if (QuantizerConfig.twoLevel(trainer.ivfTraining, nlist)) {
      return TwoLevelIvf.train(mllib, xtKeyed, sampleSize, d, nlist, params, trainer.ivfRefinePasses);
    } else if (ivf.initSample() > 0 && ivf.initSample() < sampleSize && ivf.initSample() >= nlist) {
      long initBound = smallestKeyBound(xtKeyed, sampleSize, ivf.initSample());
      float[] init = mllib.fit(xtKeyed.filter(t -> t._1() <= initBound).values(), d, nlist, seed, "IVF init", 1);
      return mllib.lloyd(xtKeyed.values(), init, d, nlist, seed, params.maxIter());
    }
    return mllib.fit(xtKeyed.values(), d, nlist, seed, "IVF", params.maxIter());
  }

  /**
   * Quarry's refine steps ({@link SparkQuantizerTrainer#withIvfRefineSteps}), then one pass counts the lists and sums
   * the IVF error over the sample (after two-level training over at most {@link #COUNT_PER_LIST} vectors per list);
   * MLlib keeps an empty cluster's previous centre (and two-level training can leave a list that is no vector's
   * nearest), so every empty list is re-seeded by FAISS's split of a large one. After a split, {@code ivf.mse} comes
   * from the PQ step's residuals (no second pass over the sample).
   */
  @Override
  protected CoarseQuantizer lists(JavaPairRDD<Long, float[]> xtKeyed, CoarseQuantizer coarse) {
    JavaRDD<float[]> xt = xtKeyed.values();
    int nlist = spec.effectiveNlist();
    RandomGenerator ivfSplits = PqTraining.splitRandom(params.seed(), "ivf");
    coarse = refine(xt, coarse, ivfSplits);
    boolean twoLevel = spec.hasIvf() && QuantizerConfig.twoLevel(trainer.ivfTraining, nlist);
    JavaRDD<float[]> counted = countSet(xtKeyed, sampleSize, nlist, twoLevel);
    CoarseStats cstats = coarseStats(counted, coarse, false);
    if (spec.hasIvf()) {
      int empty = cstats.emptyLists();
      float[] split = cstats.split(coarse, ivfSplits);
      metrics.put("ivf.splits", (double) empty);
      if (split != null) {
        coarse = CoarseQuantizer.ivf(split, nlist, d);
        if (spec.isFlat()) { // no PQ step to take the error from: count again
          cstats = coarseStats(counted, coarse, false);
        } else {
          ivfMseOnPqSet = true;
        }
        LOG.info("quantizer {}: {} empty IVF lists after MLlib's k-means re-seeded by splitting large ones; ivf.mse "
            + "over the {}", spec, empty, spec.isFlat() ? "counted vectors" : "PQ training set");
      }
    }
    coarseBroadcast = jsc.broadcast(coarse);
    toRelease.add(coarseBroadcast);
    if (!ivfMseOnPqSet) {
      metrics.put("ivf.mse", cstats.mse());
    }
    return coarse;
  }

  /**
   * Vectors per list the list count reads after two-level training: at most {@code COUNT_PER_LIST × nlist} of the
   * sample, those with the smallest sample keys. Every level-2 k-means has already split its own empty clusters (as
   * FAISS's do), so the count only looks for lists that lost every vector to a neighbouring level-1 cluster's
   * centroids (57 of 16,384 at 4M, 62 of 4,096 at 1M, counted over the whole sample). On the bounded set a list
   * holding a quarter of the average share is also seen empty with probability e<sup>−8</sup>, and re-seeded by the
   * same split: it gives its few vectors to its neighbours and halves a large list (100k × IVF1024: 17 lists split
   * against 7, IVF MSE 0.3237 both). Exact assignment costs {@code count set × nlist × d}: over the whole 4M sample
   * at IVF16384 it was 365 s, a third of the train stage (docs/benchmarks.md). Flat MLlib training keeps the full
   * count: there it is one pass against {@code maxIter} of the k-means itself.
   */
  static final int COUNT_PER_LIST = 32;

  /**
   * The vectors the list count reads: the whole sample ({@code sampleSize} vectors of {@code xtKeyed}), or after
   * two-level training the {@link #COUNT_PER_LIST}{@code × nlist} with the smallest sample keys.
   */
  static JavaRDD<float[]> countSet(JavaPairRDD<Long, float[]> xtKeyed, long sampleSize, int nlist,
      boolean twoLevel) {
    long cap = (long) COUNT_PER_LIST * nlist;
    if (!twoLevel || sampleSize <= cap) {
      return xtKeyed.values();
    }
    long bound = smallestKeyBound(xtKeyed, sampleSize, cap);
    LOG.info("IVF{}: lists counted over the {} of {} sample vectors with the smallest keys (two-level training)",
        nlist, cap, sampleSize);
    return xtKeyed.filter(t -> t._1() <= bound).values();
  }

  /** {@link SparkQuantizerTrainer#withIvfRefineSteps} Lloyd steps with FAISS's split; metric ivf.refine.splits. */
  private CoarseQuantizer refine(JavaRDD<float[]> xt, CoarseQuantizer coarse, RandomGenerator ivfSplits) {
    int steps = trainer.ivfRefineSteps;
    int refineSplits = 0;
    for (int step = 0; spec.hasIvf() && step < steps; step++) {
      CoarseStats.Update u = coarseStats(xt, coarse, true).update(coarse, ivfSplits);
      coarse = CoarseQuantizer.ivf(u.centroids(), spec.effectiveNlist(), d);
      refineSplits += u.splits();
    }
    if (steps > 0 && spec.hasIvf()) {
      metrics.put("ivf.refine.splits", (double) refineSplits);
      LOG.info("quantizer {}: {} Lloyd steps with FAISS's split after MLlib's k-means: {} empty lists split", spec,
          steps, refineSplits);
    }
    return coarse;
  }

  /** The residuals of the sub-sample are cached; Lloyd passes over that cache update all M codebooks at once. */
  @Override
  protected ProductQuantizer pq(JavaPairRDD<Long, float[]> xtKeyed, CoarseQuantizer coarse) {
    Broadcast<CoarseQuantizer> bc = coarseBroadcast;
    long bound = subKmax;
    JavaPairRDD<Long, float[]> pqSet = persist(mapBatches(subsampled ? xtKeyed.filter(t -> t._1() <= bound)
        : xtKeyed, d, (x, rows) -> OrderedBatches.residuals(bc.value(), x, rows)));
    LOG.info("quantizer {}: PQ trained on {} of {} sample vectors (cap {})", spec, subSize, sampleSize, subCap);
    if (ivfMseOnPqSet) {
      metrics.put("ivf.mse", meanSquaredNorm(pqSet.values()));
    }
    PqTraining.PqResult res = pqTraining.trainPq(pqSet, pqTraining.passes(pqSet.values(), subSize, d, "PQ"),
        subSize, d, spec.pqM(), spec.nbits(), PqTraining.splitRandom(params.seed(), "pq"), "PQ");
    metrics.put("pq.splits", (double) res.splits());
    metrics.put("pq.mse.heldout", pqTraining.heldOutError(pqSet.values(), res.pq(), toRelease));
    return res.pq();
  }

  /**
   * pq.mse over the PQ training set (the whole sample when it is within the cap): the encoding job reports the error
   * over all vectors, so a second full pass here would only repeat it.
   */
  @Override
  protected double pqMse(QuantizerModel model) {
    Broadcast<QuantizerModel> bm = jsc.broadcast(model);
    toRelease.add(bm);
    return OrderedBatches.encodingStats(subKeyed.values(), bm).mse();
  }

  @Override
  protected long sampleSize() {
    return sampleSize;
  }

  @Override
  protected String sparkVersion() {
    return trainer.spark.version();
  }

  @Override
  protected void done(Step step) {
    String key = switch (step) {
      case SAMPLE -> "sample";
      case OPQ -> "opq";
      case IVF -> "ivf";
      case LISTS -> null; // timed with the PQ, as before the steps were named
      case PQ -> "pq";
      case STATS -> "metrics";
    };
    if (key != null) {
      long now = System.nanoTime();
      times.put(key, Math.round((now - since) / 1e7) / 100.0);
      double c = SparkQuantizerTrainer.processCpuSeconds();
      cpu.put(key, Math.round((c - cpuSince) * 100) / 100.0);
      cpuSince = c;
      since = now;
    }
  }

  /**
   * {@link CoarseStats} of the transformed sample {@code xt} under {@code coarse} (one ordered pass), with the
   * per-list sums when {@code withSums}.
   */
  private CoarseStats coarseStats(JavaRDD<float[]> xt, CoarseQuantizer coarse, boolean withSums) {
    Broadcast<CoarseQuantizer> bc = jsc.broadcast(coarse);
    try {
      int nlist = coarse.nlist();
      int dim = d;
      return orderedBatchAggregate(xt, d, () -> withSums ? new CoarseStats(nlist, dim) : new CoarseStats(nlist),
          (acc, x, rows) -> acc.addBatch(x, rows, bc.value(), MllibBlasProducts.forCoarse(nlist)),
          CoarseStats::merge);
    } finally {
      bc.destroy();
    }
  }

  /** Mean squared L2 norm of the rows, summed in double partition by partition in partition order. */
  private static double meanSquaredNorm(JavaRDD<float[]> rows) {
    List<double[]> parts = rows.mapPartitions(it -> {
      double sum = 0;
      long n = 0;
      while (it.hasNext()) {
        for (float v : it.next()) {
          sum += (double) v * v;
        }
        n++;
      }
      return List.of(new double[] {sum, n}).iterator();
    }).collect();
    double sum = 0;
    double n = 0;
    for (double[] p : parts) {
      sum += p[0];
      n += p[1];
    }
    return n == 0 ? 0 : sum / n;
  }

  private JavaPairRDD<Long, float[]> persist(JavaPairRDD<Long, float[]> rdd) {
    JavaPairRDD<Long, float[]> p = rdd.persist(StorageLevel.MEMORY_AND_DISK());
    toRelease.add(p);
    return p;
  }

  /** Unpersists the cached RDDs and destroys the broadcasts of the run. */
  void release() {
    for (Object o : toRelease) {
      if (o instanceof JavaRDD<?> r) {
        r.unpersist(false);
      } else if (o instanceof JavaPairRDD<?, ?> r) {
        r.unpersist(false);
      } else if (o instanceof Broadcast<?> b) {
        b.destroy();
      }
    }
  }
}
