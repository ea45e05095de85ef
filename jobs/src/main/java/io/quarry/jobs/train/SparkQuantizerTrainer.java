package io.quarry.jobs.train;

import io.quarry.core.config.QuantizerConfig;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.Metric;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.TrainingInfo;
import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.component.ProductQuantizer;
import io.quarry.core.quant.component.VectorTransform;
import io.quarry.core.quant.kernel.VectorMath;
import io.quarry.core.quant.train.CoarseStats;
import io.quarry.core.quant.train.EncodingStats;
import io.quarry.core.quant.train.OpqStats;
import io.quarry.core.quant.train.PqHeldOutError;
import io.quarry.core.quant.train.PqLloydStats;
import io.quarry.core.quant.train.PqTraining;
import io.quarry.core.quant.train.Procrustes;
import io.quarry.core.quant.train.QuantizerTrainer;
import io.quarry.core.quant.train.SampleKeys;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Trains a {@link QuantizerModel} on Spark: MLlib {@code KMeans} (k-means||) for the IVF coarse quantizer; the PQ
 * codebooks and OPQ (Ge et al., CVPR 2013, non-parametric) with distributed aggregations that serve all M
 * sub-quantizers in one pass. The math lives in {@code io.quarry.core.quant}; this class only moves data. Every
 * per-vector step runs on batches of {@link #BATCH} rows of a partition ({@link #mapBatches}, {@link
 * #orderedBatchAggregate}) with the components' blocked kernels.
 *
 * <p>Steps and passes:
 *
 * <ol>
 *   <li><b>Sample</b> (2 passes): every vector gets the key {@link SampleKeys#key}(seed, id); the vectors with the
 *       {@code cap = maxPointsPerCentroid × max(nlist, ksub)} smallest keys are kept (the FAISS cap applied to the
 *       largest k-means): which vectors is independent of partitioning, and they stay in input order and
 *       partitioning so that MLlib's seeded k-means|| sees the same partitions on every run. The sample stays
 *       distributed (cached); nothing but centroids, codebooks, {@code ksub} initial vectors and d × d matrices
 *       reaches the driver. Fewer vectors than {@code max(nlist, ksub)} is an error, fewer than 39 per centroid a
 *       warning. OPQ and PQ train on the {@code maxPointsPerCentroid × ksub} sample vectors with the smallest keys
 *       (FAISS's cap for each PQ sub-quantizer), cached once.
 *   <li><b>OPQ</b> (only with {@code OPQ<M>}): PQ initialised as in step 4 (from {@code R = I}); then per iteration
 *       one ordered aggregation of the d × d cross-covariance {@code Σ x ŷᵀ} ({@link OpqStats}), the SVD/Procrustes
 *       update on the driver, and 4 Lloyd passes, each serving all M sub-quantizers at once ({@link PqLloydStats};
 *       the loop is {@link PqTraining#opq}, shared with the in-memory trainer).
 *   <li><b>IVF</b>: MLlib {@code KMeans(k = nlist, k-means||, maxIter, tol, seed)} on the rotated sample; {@link
 *       #withIvfOptions} can choose random initialisation (FAISS's), the k-means|| rounds and MLlib's solver. One
 *       pass then counts the lists ({@link CoarseStats}); every list MLlib left empty is re-seeded by FAISS's split
 *       of a large one (metric {@code ivf.splits}) and the lists are counted again.
 *   <li><b>Residual PQ</b>: the list-count pass also sums the IVF error over the sample; the residuals {@code R x − c_assign(x)} of
 *       the PQ training vectors are cached; every sub-codebook starts from the {@code ksub} training vectors with
 *       the smallest keys (seeded random initialisation, as FAISS's PQ k-means), then up to {@code maxIter} Lloyd
 *       passes (tol as k-means), each one ordered aggregation of {@link PqLloydStats} updating all M codebooks. So
 *       the PQ costs {@code ≤ maxIter} Spark jobs in all, where M MLlib fits (before issue 12) cost {@code M × (k-means||
 *       init + maxIter)} jobs.
 * </ol>
 *
 * <p>The PQ/OPQ passes run over a bounded training set (at most {@code maxPointsPerCentroid × ksub} vectors): when it
 * fits {@link #withLocalPassBytes} it is collected to the driver once and every pass runs there ({@link
 * PqTraining#inMemory}, same bits as the distributed passes); every k-means splits empty clusters as FAISS does
 * (metrics {@code opq.splits}, {@code pq.splits}, {@code ivf.splits}).
 *
 * <p>MLlib may return fewer than k centres when the data has fewer distinct points than k; the missing centres are
 * filled with copies of the returned ones in order (documented rule: duplicate centroids; their lists stay empty and
 * encoding picks the lowest index).
 */
public final class SparkQuantizerTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(SparkQuantizerTrainer.class);

  private final SparkSession spark;
  private final IndexSpec spec;
  private final Metric metric;
  private final QuantizerTrainer.Params params;

  /**
   * What training produced.
   *
   * @param model the trained model
   * @param inputVectors vectors offered
   * @param sampleSize vectors trained on (OPQ and IVF)
   * @param pqSampleSize vectors whose residuals trained the PQ: {@code min(sampleSize, maxPointsPerCentroid × ksub)}
   * @param stepSeconds wall time per step ({@code sample}, {@code opq}, {@code ivf}, {@code pq}, {@code metrics});
   *     kept out of the model so the model file stays reproducible
   * @param stepCpuSeconds CPU time of this JVM per step (same keys; {@link #processCpuSeconds}): in local mode the
   *     executors' work too, a measure that a machine shared with other processes does not inflate as it does wall
   *     time; on a cluster only the driver's
   */
  public record Result(QuantizerModel model, long inputVectors, long sampleSize, long pqSampleSize,
      java.util.Map<String, Double> stepSeconds, java.util.Map<String, Double> stepCpuSeconds) {}

  /** CPU seconds this JVM has used (all threads; {@code OperatingSystemMXBean.getProcessCpuTime}), NaN if unknown. */
  public static double processCpuSeconds() {
    java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      long ns = sun.getProcessCpuTime();
      return ns < 0 ? Double.NaN : ns / 1e9;
    }
    return Double.NaN;
  }

  public SparkQuantizerTrainer(SparkSession spark, IndexSpec spec, Metric metric, QuantizerTrainer.Params params) {
    this.spark = spark;
    this.spec = spec;
    this.metric = metric;
    this.params = params;
  }

  /**
   * How MLlib fits the IVF coarse quantizer (the PQ and OPQ do not use MLlib).
   *
   * @param initMode {@code k-means||} (Bahmani et al. 2012; MLlib's default, the train stage's) or {@code random}
   *     (nlist seeded random sample vectors, FAISS's k-means initialisation: no initialisation passes over the
   *     sample, which at 1M × IVF4096 cost about as much as 8 Lloyd iterations)
   * @param initSteps k-means|| rounds (MLlib default 2)
   * @param solver MLlib {@code KMeans.solver}: {@code auto}, {@code row} or {@code block} (level-3 BLAS over
   *     blocks of rows); null keeps MLlib's default ({@code auto})
   * @param initSample when {@code > 0} and smaller than the sample (and ≥ nlist): initialise on the {@code
   *     initSample} sample vectors with the smallest keys (the init mode plus one Lloyd iteration there), then run
   *     the Lloyd iterations on the whole sample from that model (MLlib RDD {@code KMeans.setInitialModel}, row
   *     solver); 0 initialises on the whole sample
   */
  public record IvfOptions(String initMode, int initSteps, String solver, long initSample)
      implements java.io.Serializable {
    public IvfOptions {
      if (!QuantizerConfig.IVF_INITS.contains(initMode)) {
        throw new IllegalArgumentException("IVF init mode must be k-means|| or random, got " + initMode);
      }
      if (initSteps < 1) {
        throw new IllegalArgumentException("IVF k-means|| initSteps must be >= 1, got " + initSteps);
      }
      if (solver != null && !QuantizerConfig.IVF_SOLVERS.contains(solver)) {
        throw new IllegalArgumentException("IVF solver must be auto, row or block, got " + solver);
      }
      if (initSample < 0) {
        throw new IllegalArgumentException("IVF initSample must be >= 0, got " + initSample);
      }
    }

    /**
     * MLlib's defaults, which are also the train stage's ({@code quantizer.ivfInit} / {@code quantizer.ivfSolver}):
     * k-means|| over the whole sample, 2 steps, MLlib's default solver.
     */
    public static IvfOptions defaults() {
      return new IvfOptions("k-means||", 2, null, 0);
    }
  }

  private IvfOptions ivf = IvfOptions.defaults();

  private String ivfTraining = "flat";
  private int ivfRefinePasses;

  /**
   * Sets how the IVF centroids are trained (default {@code flat}, 0): {@code quantizer.ivfTraining} ({@code flat},
   * {@code two-level} or {@code auto}, {@link QuantizerConfig#twoLevel}); two-level runs {@link TwoLevelIvf}, then
   * {@code refinePasses} flat MLlib Lloyd iterations over the whole sample. Returns this.
   */
  public SparkQuantizerTrainer withIvfTraining(String mode, int refinePasses) {
    QuantizerConfig.twoLevel(mode, 1); // validates the mode
    if (refinePasses < 0) {
      throw new IllegalArgumentException("IVF refine passes must be >= 0, got " + refinePasses);
    }
    this.ivfTraining = mode;
    this.ivfRefinePasses = refinePasses;
    return this;
  }

  /** Sets how MLlib fits the IVF centroids (default {@link IvfOptions#defaults()}). Returns this. */
  public SparkQuantizerTrainer withIvfOptions(IvfOptions options) {
    this.ivf = java.util.Objects.requireNonNull(options, "options");
    return this;
  }

  /**
   * Trains on {@code (id, vector)} pairs. Vectors must be valid (dimension {@code d}, finite); see {@link
   * TrainQuantizerJob} for the validation and quarantine of the input.
   *
   * @param vectors id → raw vector of dimension {@code d}
   * @param d the dimension
   * @param n number of vectors (already counted by the caller)
   * @throws IllegalArgumentException when the spec does not fit {@code d} or there are too few vectors
   */
  public Result train(JavaPairRDD<String, float[]> vectors, int d, long n) {
    spec.validateFor(d);
    QuantizerTrainer.checkSampleSize(n, spec);
    long cap = QuantizerTrainer.sampleCap(spec, params.maxPointsPerCentroid());
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    long seed = params.seed();
    List<Object> toRelease = new ArrayList<>();
    java.util.Map<String, Double> times = new java.util.LinkedHashMap<>();
    java.util.Map<String, Double> cpu = new java.util.LinkedHashMap<>();
    double[] cpuStep = {processCpuSeconds()};
    long tStep = System.nanoTime();
    try {
      // ---- 1. sample: the vectors with the cap smallest keys, kept in input order and partitioning (a sort would
      //      make the partitioning, and so MLlib's k-means|| sampling, depend on RDD ids)
      JavaPairRDD<Long, float[]> keyed =
          vectors.mapToPair(t -> new Tuple2<>(SampleKeys.key(seed, t._1()) >>> 1, t._2()));
      JavaPairRDD<Long, float[]> sampleKeyed = n <= cap ? keyed : smallestKeys(keyed, n, cap);
      // the whole input is the sample and the caller has cached it: the keys are a cheap hash, so recompute them
      // rather than cache a second copy of every vector (1.5 GB at 1M × 384)
      if (!(n <= cap && vectors.getStorageLevel().useMemory())) {
        sampleKeyed = sampleKeyed.persist(StorageLevel.MEMORY_AND_DISK());
        toRelease.add(sampleKeyed);
      }
      long sampleSize = n <= cap ? n : sampleKeyed.count();
      JavaRDD<float[]> sample = sampleKeyed.values();
      LOG.info("quantizer {}: sample {} of {} vectors (cap {})", spec, sampleSize, n, cap);
      // OPQ and PQ train on the sample vectors with the subCap smallest keys (FAISS's cap for each PQ sub-quantizer):
      // one key bound serves both (OPQ requires a PQ encoding, so a Flat spec never needs it)
      long subCap = (long) params.maxPointsPerCentroid() * spec.ksub();
      boolean subsampled = !spec.isFlat() && sampleSize > subCap;
      long subKmax = subsampled ? smallestKeyBound(sampleKeyed, sampleSize, subCap) : Long.MAX_VALUE;
      TreeMap<String, Double> metrics = new TreeMap<>();
      tStep = lap(times, cpu, cpuStep, "sample", tStep);

      // ---- 2. OPQ
      VectorTransform transform = VectorTransform.identity(d);
      JavaPairRDD<Long, float[]> xtKeyed = sampleKeyed;
      JavaPairRDD<Long, float[]> subKeyed = sampleKeyed;
      if (subsampled) {
        subKeyed = sampleKeyed.filter(t -> t._1() <= subKmax).persist(StorageLevel.MEMORY_AND_DISK());
        toRelease.add(subKeyed);
      }
      long subSize = subsampled ? subKeyed.count() : sampleSize;
      if (spec.hasOpq()) {
        transform = trainOpq(jsc, subKeyed, subSize, d, spec.opqM(), spec.nbits(), metrics);
        Broadcast<VectorTransform> br = jsc.broadcast(transform);
        toRelease.add(br);
        xtKeyed = mapBatches(sampleKeyed, d, (x, rows) -> {
          float[] y = new float[rows * d];
          br.value().apply(x, rows, y);
          return y;
        }).persist(StorageLevel.MEMORY_AND_DISK());
        toRelease.add(xtKeyed);
        xtKeyed.count(); // materialise the rotated sample inside the OPQ step's time
      }
      JavaRDD<float[]> xt = xtKeyed.values();
      tStep = lap(times, cpu, cpuStep, "opq", tStep);

      // ---- 3. IVF
      int nlist = spec.effectiveNlist();
      CoarseQuantizer coarse = CoarseQuantizer.single(d);
      java.util.random.RandomGenerator ivfSplits = PqTraining.splitRandom(seed, "ivf");
      if (spec.hasIvf()) {
        float[] c;
        if (QuantizerConfig.twoLevel(ivfTraining, nlist)) {
          c = TwoLevelIvf.train(this, xtKeyed, sampleSize, d, nlist, seed, params.maxIter(), params.tol(),
              ivfRefinePasses);
        } else if (ivf.initSample() > 0 && ivf.initSample() < sampleSize && ivf.initSample() >= nlist) {
          long initBound = smallestKeyBound(xtKeyed, sampleSize, ivf.initSample());
          float[] init = fitKMeans(xtKeyed.filter(t -> t._1() <= initBound).values(), d, nlist, seed, "IVF init", 1);
          c = lloyd(xt, init, d, nlist, seed, params.maxIter());
        } else {
          c = fitKMeans(xt, d, nlist, seed, "IVF", params.maxIter());
        }
        coarse = CoarseQuantizer.ivf(c, nlist, d);
      }
      tStep = lap(times, cpu, cpuStep, "ivf", tStep);

      // ---- 4. residual PQ: one pass counts the lists and sums the IVF error over the whole sample (MLlib keeps an
      //      empty cluster's previous centre, so every empty list is first re-seeded by FAISS's split of a large
      //      one, then counted again); the residuals of the at most maxPointsPerCentroid × ksub sample vectors with
      //      the smallest keys (FAISS's cap for each PQ sub-quantizer) are cached, and Lloyd passes over that cache
      //      update all M codebooks at once
      int refineSplits = 0;
      for (int step = 0; spec.hasIvf() && step < ivfRefineSteps; step++) {
        CoarseStats.Update u = coarseStats(jsc, xt, d, coarse, true).update(coarse, ivfSplits);
        coarse = CoarseQuantizer.ivf(u.centroids(), nlist, d);
        refineSplits += u.splits();
      }
      if (ivfRefineSteps > 0 && spec.hasIvf()) {
        metrics.put("ivf.refine.splits", (double) refineSplits);
        LOG.info("quantizer {}: {} Lloyd steps with FAISS's split after MLlib's k-means: {} empty lists split", spec,
            ivfRefineSteps, refineSplits);
      }
      CoarseStats cstats = coarseStats(jsc, xt, d, coarse, false);
      if (spec.hasIvf()) {
        int empty = cstats.emptyLists();
        float[] split = cstats.split(coarse, ivfSplits);
        metrics.put("ivf.splits", (double) empty);
        if (split != null) {
          coarse = CoarseQuantizer.ivf(split, nlist, d);
          cstats = coarseStats(jsc, xt, d, coarse, false);
          LOG.info("quantizer {}: {} empty IVF lists after MLlib's k-means re-seeded by splitting large ones; {} "
              + "empty after the split", spec, empty, cstats.emptyLists());
        }
      }
      Broadcast<CoarseQuantizer> bc = jsc.broadcast(coarse);
      toRelease.add(bc);
      metrics.put("ivf.mse", cstats.mse());
      ProductQuantizer pq = null;
      long pqSize = subSize;
      if (!spec.isFlat()) {
        JavaPairRDD<Long, float[]> pqSet = mapBatches(subsampled ? xtKeyed.filter(t -> t._1() <= subKmax) : xtKeyed,
            d, (x, rows) -> residuals(bc.value(), x, rows)).persist(StorageLevel.MEMORY_AND_DISK());
        toRelease.add(pqSet);
        LOG.info("quantizer {}: PQ trained on {} of {} sample vectors (cap {})", spec, pqSize, sampleSize, subCap);
        PqTraining.PqResult res = trainPq(jsc, pqSet, passes(pqSet.values(), pqSize, d, "PQ"), pqSize, d,
            spec.pqM(), spec.nbits(), PqTraining.splitRandom(seed, "pq"), "PQ");
        pq = res.pq();
        metrics.put("pq.splits", (double) res.splits());
        metrics.put("pq.mse.heldout", heldOutError(jsc, pqSet.values(), pq, toRelease));
      }
      tStep = lap(times, cpu, cpuStep, "pq", tStep);
      String sparkVersion = spark.version();
      QuantizerModel model = new QuantizerModel(spec, metric, transform, coarse, pq, new TrainingInfo(sampleSize,
          seed, sparkVersion, TrainingInfo.currentQuarryVersion(), metrics, params.maxPointsPerCentroid()));
      Broadcast<QuantizerModel> bm = jsc.broadcast(model);
      toRelease.add(bm);
      // pq.mse over the PQ training set (the whole sample when it is within the cap): the encoding job reports the
      // error over all vectors, so a second full pass here would only repeat it
      double pqMse = encodingStats(subKeyed.values(), bm).mse();
      model = model.withInfo(model.info().withMetric("pq.mse", pqMse));
      lap(times, cpu, cpuStep, "metrics", tStep);
      return new Result(model, n, sampleSize, pqSize, times, cpu);
    } finally {
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

  /**
   * {@link PqHeldOutError}: the leave-one-out estimate of {@code pq}'s error on vectors it was not trained on, from its
   * {@code rows × d} training residuals (two ordered passes: codeword occupancy, then the errors). Broadcasts go to
   * {@code toRelease}.
   */
  static double heldOutError(JavaSparkContext jsc, JavaRDD<float[]> residuals, ProductQuantizer pq,
      List<Object> toRelease) {
    Broadcast<ProductQuantizer> bpq = jsc.broadcast(pq);
    toRelease.add(bpq);
    int d = pq.dim();
    int cells = pq.m() * pq.ksub();
    long[] occupancy = orderedBatchAggregate(residuals, d, () -> new long[cells],
        (acc, x, rows) -> PqHeldOutError.addCounts(bpq.value(), x, rows, acc), (a, b) -> {
          for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
          }
          return a;
        });
    Broadcast<long[]> bocc = jsc.broadcast(occupancy);
    toRelease.add(bocc);
    return orderedBatchAggregate(residuals, d, () -> new PqHeldOutError(bocc.value()),
        (acc, x, rows) -> acc.addBatch(bpq.value(), x, rows), PqHeldOutError::merge).mse();
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


  /**
   * Aggregates {@code rdd} like {@code aggregate}, but merges the per-partition results on the driver in partition
   * order, so floating-point sums do not depend on the order in which tasks finish (Spark's {@code reduce} /
   * {@code treeAggregate} merge in arrival order). One partial per partition reaches the driver.
   */
  public static <T, A extends java.io.Serializable> A orderedAggregate(JavaRDD<T> rdd,
      org.apache.spark.api.java.function.Function0<A> zero,
      org.apache.spark.api.java.function.Function2<A, T, A> seqOp,
      org.apache.spark.api.java.function.Function2<A, A, A> combOp) {
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
  private static <A> A mergeInOrder(List<A> partials, org.apache.spark.api.java.function.Function0<A> zero,
      org.apache.spark.api.java.function.Function2<A, A, A> combOp) {
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

  private static long lap(java.util.Map<String, Double> times, java.util.Map<String, Double> cpu, double[] cpuSince,
      String step, long since) {
    long now = System.nanoTime();
    times.put(step, Math.round((now - since) / 1e7) / 100.0);
    double c = processCpuSeconds();
    cpu.put(step, Math.round((c - cpuSince[0]) * 100) / 100.0);
    cpuSince[0] = c;
    return now;
  }

  /** Rows per batch in {@link #mapBatches}, {@link #orderedBatchAggregate} and {@link #encodingStats}. */
  public static final int BATCH = QuantizerModel.ENCODE_BLOCK;

  /** A function of a batch of {@code rows × d} row-major vectors to {@code rows × d} vectors. */
  public interface BatchFunction extends java.io.Serializable {
    float[] apply(float[] x, int rows) throws Exception;
  }

  /** Adds a batch of {@code rows × d} row-major vectors ({@code x} may hold more floats) to an accumulator. */
  public interface BatchAdd<A> extends java.io.Serializable {
    A add(A acc, float[] x, int rows) throws Exception;
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
      org.apache.spark.api.java.function.Function0<A> zero, BatchAdd<A> add,
      org.apache.spark.api.java.function.Function2<A, A, A> combOp) {
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
   * assignment's distances in MLlib's native BLAS when it is loaded: same result bit for bit) and aggregates the
   * error and list sizes in partition order. The build stage encodes with the same {@code encodeBatch}.
   */
  public static EncodingStats encodingStats(JavaRDD<float[]> vectors, Broadcast<QuantizerModel> model) {
    int d = model.value().dim();
    int nlist = model.value().nlist();
    return orderedBatchAggregate(vectors, d, () -> new EncodingStats(nlist),
        (acc, x, rows) -> acc.addBatch(model.value().encodeBatch(x, rows, MllibBlasProducts.ifNative())),
        EncodingStats::merge);
  }

  /**
   * Residuals {@code x_i − c_assign(x_i)} of a batch; the assignment's distances run in MLlib's native BLAS when it
   * is loaded (same lists bit for bit, {@link MllibBlasProducts}).
   */
  static float[] residuals(CoarseQuantizer coarse, float[] x, int rows) {
    int[] lists = new int[rows];
    coarse.assign(x, rows, lists, MllibBlasProducts.ifNative());
    float[] r = new float[rows * coarse.dim()];
    coarse.residuals(x, rows, lists, r);
    return r;
  }

  /**
   * Non-parametric OPQ on the (cached) sub-sample; returns the rotation: the initial PQ ({@link #trainPq}), then
   * {@link PqTraining#opq} (per iteration one {@link OpqStats} pass, Procrustes on the driver, {@link
   * QuantizerTrainer#OPQ_PQ_ITERATIONS} Lloyd passes updating all M codebooks at once), the passes from {@link
   * #passes}.
   */
  private VectorTransform trainOpq(JavaSparkContext jsc, JavaPairRDD<Long, float[]> keyed, long size, int d, int m,
      int nbits, TreeMap<String, Double> metrics) {
    PqTraining.Passes data = passes(keyed.values(), size, d, "OPQ");
    java.util.random.RandomGenerator rnd = PqTraining.splitRandom(params.seed(), "opq");
    PqTraining.PqResult init = trainPq(jsc, keyed, data, size, d, m, nbits, rnd, "OPQ's initial PQ");
    PqTraining.OpqResult res = PqTraining.opq(data, d, init.pq(), params.opqIterations(),
        QuantizerTrainer.OPQ_PQ_ITERATIONS, rnd, metrics);
    metrics.put("opq.splits", (double) (init.splits() + res.splits()));
    return res.rotation();
  }

  /**
   * Default of {@link #withLocalPassBytes}: a training set of at most 256 MiB of vectors ({@code size × d × 4}
   * bytes) is collected to the driver for the PQ and OPQ passes — the 8-bit PQ's sample (at most {@code
   * maxPointsPerCentroid × 256 = 65,536} vectors) up to {@code d = 1,024}.
   */
  public static final long DEFAULT_LOCAL_PASS_BYTES = 256L << 20;

  private long localPassBytes = DEFAULT_LOCAL_PASS_BYTES;

  /**
   * Where the PQ/OPQ Lloyd and rotation passes run: a training set of at most {@code bytes} ({@code size × d × 4}) is
   * collected once to the driver in its partitions (one Spark job) and every pass runs there ({@link
   * PqTraining#inMemory}, the partitions in parallel threads), instead of one Spark job per pass; larger sets stay
   * distributed. Both give the same model bits (the same per-partition sums merged in partition order). 0: always
   * distributed. Returns this.
   */
  public SparkQuantizerTrainer withLocalPassBytes(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("local pass bytes must be >= 0, got " + bytes);
    }
    this.localPassBytes = bytes;
    return this;
  }

  /**
   * The passes over the cached training set {@code x} ({@code size} vectors of {@code d} floats): in memory on the
   * driver when it fits {@link #withLocalPassBytes}, else one ordered Spark aggregation per pass. Either way the PQ
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
    return PqTraining.inMemory(parts, rows, d, BATCH, MllibBlasProducts.ifNative());
  }

  /** {@link PqTraining.Passes} as one {@link #orderedBatchAggregate} per pass over {@code x}. */
  private PqTraining.Passes distributedPasses(JavaRDD<float[]> x, int d) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
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

  private int ivfRefineSteps = 0;

  /**
   * Lloyd steps of the IVF run by Quarry after MLlib's k-means, each one ordered pass ({@link CoarseStats} with sums:
   * assignment through the sgemm shortlist, the means, then FAISS's split of a large list for every empty one —
   * FAISS's iteration, which MLlib's cannot be made to do). Default 0 (MLlib's iterations, then only the split of the
   * lists they left empty). Each step costs about one MLlib iteration and moves {@code nlist × d} double sums per
   * partition to the driver. Metric {@code ivf.refine.splits}. Returns this.
   */
  public SparkQuantizerTrainer withIvfRefineSteps(int steps) {
    if (steps < 0) {
      throw new IllegalArgumentException("IVF refine steps must be >= 0, got " + steps);
    }
    this.ivfRefineSteps = steps;
    return this;
  }

  /**
   * {@link CoarseStats} of the transformed sample {@code xt} under {@code coarse} (one ordered pass), with the
   * per-list sums when {@code withSums}.
   */
  private static CoarseStats coarseStats(JavaSparkContext jsc, JavaRDD<float[]> xt, int d, CoarseQuantizer coarse,
      boolean withSums) {
    Broadcast<CoarseQuantizer> bc = jsc.broadcast(coarse);
    try {
      int nlist = coarse.nlist();
      return orderedBatchAggregate(xt, d, () -> withSums ? new CoarseStats(nlist, d) : new CoarseStats(nlist),
          (acc, x, rows) -> acc.addBatch(x, rows, bc.value(), MllibBlasProducts.ifNative()), CoarseStats::merge);
    } finally {
      bc.destroy();
    }
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
  PqTraining.PqResult trainPq(JavaSparkContext jsc, JavaPairRDD<Long, float[]> keyed, PqTraining.Passes data,
      long size, int d, int m, int nbits, java.util.random.RandomGenerator rnd, String what) {
    int ksub = 1 << nbits;
    int dsub = d / m;
    long bound = smallestKeyBound(keyed, size, ksub);
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
   * Up to {@code maxIter} Lloyd iterations (tol as MLlib's epsilon, seed) of MLlib's RDD {@code KMeans} on {@code
   * data} from the {@code k × dim} centres {@code init}; returns {@code k × dim} centres.
   */
  float[] lloyd(JavaRDD<float[]> data, float[] init, int dim, int k, long seed, int maxIter) {
    org.apache.spark.mllib.linalg.Vector[] c0 = new org.apache.spark.mllib.linalg.Vector[k];
    for (int c = 0; c < k; c++) {
      double[] v = new double[dim];
      for (int i = 0; i < dim; i++) {
        v[i] = init[c * dim + i];
      }
      c0[c] = org.apache.spark.mllib.linalg.Vectors.dense(v);
    }
    JavaRDD<org.apache.spark.mllib.linalg.Vector> rdd = data.map(v -> {
      double[] dd = new double[v.length];
      for (int i = 0; i < v.length; i++) {
        dd[i] = v[i];
      }
      return org.apache.spark.mllib.linalg.Vectors.dense(dd);
    });
    org.apache.spark.mllib.clustering.KMeansModel m = new org.apache.spark.mllib.clustering.KMeans()
        .setK(k)
        .setMaxIterations(maxIter)
        .setEpsilon(params.tol())
        .setSeed(seed)
        .setInitialModel(new org.apache.spark.mllib.clustering.KMeansModel(c0))
        .run(rdd.rdd());
    org.apache.spark.mllib.linalg.Vector[] centers = m.clusterCenters();
    float[] out = new float[k * dim];
    for (int c = 0; c < k; c++) {
      org.apache.spark.mllib.linalg.Vector v = centers[c % centers.length];
      for (int i = 0; i < dim; i++) {
        out[c * dim + i] = (float) v.apply(i);
      }
    }
    return out;
  }

  /**
   * One MLlib {@code KMeans} fit (k-means|| init, maxIter, tol, seed). Returns {@code k × dim} centres; when MLlib
   * returns fewer (too few distinct points), they are repeated cyclically and a warning is logged.
   */
  float[] fitKMeans(JavaRDD<float[]> data, int dim, int k, long seed, String what, int maxIter) {
    StructType schema = new StructType().add("features", SQLDataTypes.VectorType(), false);
    JavaRDD<Row> rows = data.map(v -> {
      double[] dd = new double[v.length];
      for (int i = 0; i < v.length; i++) {
        dd[i] = v[i];
      }
      return RowFactory.create(Vectors.dense(dd));
    });
    Dataset<Row> df = spark.createDataFrame(rows, schema);
    org.apache.spark.ml.clustering.KMeans km = new org.apache.spark.ml.clustering.KMeans()
        .setK(k)
        .setInitMode(ivf.initMode())
        .setInitSteps(ivf.initSteps())
        .setMaxIter(maxIter)
        .setTol(params.tol())
        .setSeed(seed)
        .setFeaturesCol("features");
    if (ivf.solver() != null) {
      km.setSolver(ivf.solver());
    }
    Vector[] centers = MllibKMeansFit.centres(km, df);
    if (centers.length < k) {
      LOG.warn("{}: MLlib k-means returned {} distinct centres for k = {} (too few distinct training vectors); "
          + "repeating centres", what, centers.length, k);
    }
    float[] out = new float[k * dim];
    for (int c = 0; c < k; c++) {
      Vector v = centers[c % centers.length];
      for (int i = 0; i < dim; i++) {
        out[c * dim + i] = (float) v.apply(i);
      }
    }
    return out;
  }
}
