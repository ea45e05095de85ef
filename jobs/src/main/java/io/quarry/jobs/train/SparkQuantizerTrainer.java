package io.quarry.jobs.train;

import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.KMeans;
import io.quarry.core.quant.Metric;
import io.quarry.core.quant.OpqStats;
import io.quarry.core.quant.PqLloydStats;
import io.quarry.core.quant.Procrustes;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.QuantizerTrainer;
import io.quarry.core.quant.SampleKeys;
import io.quarry.core.quant.TrainingInfo;
import io.quarry.core.quant.VectorMath;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.clustering.KMeansModel;
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
 * Trains a {@link QuantizerModel} on Spark: MLlib {@code KMeans} (k-means||) for the IVF coarse quantizer and the
 * residual PQ sub-quantizers; OPQ (Ge et al., CVPR 2013, non-parametric) with distributed aggregations. The math lives
 * in {@code io.quarry.core.quant}; this class only moves data.
 *
 * <p>Steps and passes:
 *
 * <ol>
 *   <li><b>Sample</b> (2 passes): every vector gets the key {@link SampleKeys#key}(seed, id); the vectors with the
 *       {@code cap = maxPointsPerCentroid × max(nlist, ksub)} smallest keys are kept (the FAISS cap applied to the
 *       largest k-means): which vectors is independent of partitioning, and they stay in input order and
 *       partitioning so that MLlib's seeded k-means|| sees the same partitions on every run. The sample stays distributed (cached); nothing but
 *       centroids, codebooks and d × d matrices reaches the driver. Fewer vectors than {@code max(nlist, ksub)} is an
 *       error, fewer than 39 per centroid a warning.
 *   <li><b>OPQ</b> (only with {@code OPQ<M>}), on the first {@code maxPointsPerCentroid × ksub} sample vectors (by
 *       key): PQ codebooks initialised by MLlib k-means per sub-space; then per iteration one ordered aggregation
 *       pass accumulating the d × d cross-covariance {@code Σ x ŷᵀ} ({@link OpqStats}), the SVD/Procrustes update on
 *       the driver, and 4 Lloyd passes, each serving all M sub-quantizers at once ({@link PqLloydStats}).
 *   <li><b>IVF</b>: MLlib {@code KMeans(k = nlist, k-means||, maxIter, tol, seed)} on the rotated sample.
 *   <li><b>Residual PQ</b>: one pass computes the residual {@code R x − c_assign(x)} of every sample vector, caches
 *       it and sums the IVF error; the PQ is trained on the residuals of the {@code maxPointsPerCentroid × ksub}
 *       sample vectors with the smallest keys (the cap FAISS's k-means applies to each PQ sub-quantizer; with
 *       {@code nlist > ksub} the IVF sample is larger than the PQ needs); then the M MLlib k-means fits (k = 2^nbits,
 *       seed + 1 + m) each read their {@code d/M}-dimensional slice of that cached residual set, up to {@link #PQ_FIT_PARALLELISM} fits running as concurrent Spark jobs. Choice:
 *       MLlib k-means cannot train M independent codebooks in one fit, so instead of M passes over the source data,
 *       one pass materialises the residuals and the M fits run over the in-memory cache (the fits are small —
 *       {@code dsub}-dimensional — so the scheduling latency dominates and concurrency hides it).
 * </ol>
 *
 * <p>MLlib may return fewer than k centres when the data has fewer distinct points than k; the missing centres are
 * filled with copies of the returned ones in order (documented rule: duplicate centroids; their lists stay empty and
 * encoding picks the lowest index).
 */
public final class SparkQuantizerTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(SparkQuantizerTrainer.class);

  /** Concurrent MLlib fits for the M residual sub-quantizers. */
  public static final int PQ_FIT_PARALLELISM = 4;

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
   */
  public record Result(QuantizerModel model, long inputVectors, long sampleSize, long pqSampleSize,
      java.util.Map<String, Double> stepSeconds) {}

  public SparkQuantizerTrainer(SparkSession spark, IndexSpec spec, Metric metric, QuantizerTrainer.Params params) {
    this.spark = spark;
    this.spec = spec;
    this.metric = metric;
    this.params = params;
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
    long tStep = System.nanoTime();
    try {
      // ---- 1. sample: the vectors with the cap smallest keys, kept in input order and partitioning (a sort would
      //      make the partitioning, and so MLlib's k-means|| sampling, depend on RDD ids)
      JavaPairRDD<Long, float[]> keyed =
          vectors.mapToPair(t -> new Tuple2<>(SampleKeys.key(seed, t._1()) >>> 1, t._2()));
      JavaPairRDD<Long, float[]> sampleKeyed = n <= cap ? keyed : smallestKeys(keyed, n, cap);
      sampleKeyed = sampleKeyed.persist(StorageLevel.MEMORY_AND_DISK());
      toRelease.add(sampleKeyed);
      long sampleSize = n <= cap ? n : sampleKeyed.count();
      JavaRDD<float[]> sample = sampleKeyed.values();
      LOG.info("quantizer {}: sample {} of {} vectors (cap {})", spec, sampleSize, n, cap);
      // OPQ and PQ train on the sample vectors with the subCap smallest keys (FAISS's cap for each PQ sub-quantizer):
      // one key bound serves both (OPQ requires a PQ encoding, so a Flat spec never needs it)
      long subCap = (long) params.maxPointsPerCentroid() * spec.ksub();
      boolean subsampled = !spec.isFlat() && sampleSize > subCap;
      long subKmax = subsampled ? smallestKeyBound(sampleKeyed, sampleSize, subCap) : Long.MAX_VALUE;
      TreeMap<String, Double> metrics = new TreeMap<>();
      tStep = lap(times, "sample", tStep);

      // ---- 2. OPQ
      float[] rotation = null;
      JavaPairRDD<Long, float[]> xtKeyed = sampleKeyed;
      if (spec.hasOpq()) {
        JavaRDD<float[]> opqSample = sample;
        if (subsampled) {
          JavaPairRDD<Long, float[]> sub = sampleKeyed.filter(t -> t._1() <= subKmax)
              .persist(StorageLevel.MEMORY_AND_DISK());
          toRelease.add(sub);
          opqSample = sub.values();
        }
        rotation = trainOpq(jsc, opqSample, d, spec.opqM(), spec.ksub(), metrics);
        Broadcast<float[]> br = jsc.broadcast(rotation);
        toRelease.add(br);
        xtKeyed = sampleKeyed.mapValues(x -> rotate(br.value(), x)).persist(StorageLevel.MEMORY_AND_DISK());
        toRelease.add(xtKeyed);
        xtKeyed.count(); // materialise the rotated sample inside the OPQ step's time
      }
      JavaRDD<float[]> xt = xtKeyed.values();
      tStep = lap(times, "opq", tStep);

      // ---- 3. IVF
      int nlist = spec.effectiveNlist();
      float[] centroids = new float[d];
      if (spec.hasIvf()) {
        centroids = fitKMeans(xt, d, nlist, seed, "IVF");
      }
      tStep = lap(times, "ivf", tStep);

      // ---- 4. residual PQ: one pass for residuals (and the IVF error over the whole sample); the M fits run over
      //      the cached residuals of at most maxPointsPerCentroid × ksub sample vectors (the smallest keys), the cap
      //      FAISS's PQ k-means applies to each sub-quantizer
      float[] codebooks = null;
      float[] cent = centroids;
      Broadcast<float[]> bc = jsc.broadcast(cent);
      toRelease.add(bc);
      JavaPairRDD<Long, float[]> residualsKeyed = xtKeyed.mapValues(v -> residual(v, bc.value(), nlist))
          .persist(StorageLevel.MEMORY_AND_DISK());
      toRelease.add(residualsKeyed);
      double ivfMse = orderedAggregate(residualsKeyed.values(), () -> new double[1], (acc, r) -> {
        acc[0] += VectorMath.dot(r, r);
        return acc;
      }, (a, b) -> {
        a[0] += b[0];
        return a;
      })[0] / sampleSize;
      metrics.put("ivf.mse", ivfMse);
      JavaPairRDD<Long, float[]> pqSet = residualsKeyed;
      long pqSize = sampleSize;
      if (subsampled) {
        pqSet = residualsKeyed.filter(t -> t._1() <= subKmax).persist(StorageLevel.MEMORY_AND_DISK());
        toRelease.add(pqSet);
        pqSize = pqSet.count();
        LOG.info("quantizer {}: PQ trained on {} of {} sample vectors (cap {})", spec, pqSize, sampleSize, subCap);
      }
      if (!spec.isFlat()) {
        codebooks = trainPq(pqSet.values(), d, spec.pqM(), spec.ksub(), seed);
      }
      tStep = lap(times, "pq", tStep);
      String sparkVersion = spark.version();
      QuantizerModel model = new QuantizerModel(spec, metric, d, rotation, spec.hasIvf() ? centroids : null,
          codebooks, new TrainingInfo(sampleSize, seed, sparkVersion, TrainingInfo.currentQuarryVersion(), metrics));
      Broadcast<QuantizerModel> bm = jsc.broadcast(model);
      toRelease.add(bm);
      // pq.mse over the PQ training set (the whole sample when it is within the cap): the encoding job reports the
      // error over all vectors, so a second full pass here would only repeat it
      JavaRDD<float[]> mseSet = subsampled ? sampleKeyed.filter(t -> t._1() <= subKmax).values() : sample;
      double pqMse = orderedAggregate(mseSet, () -> new double[1], (acc, x) -> {
        acc[0] += bm.value().encodeVector(x).squaredError();
        return acc;
      }, (a, b) -> {
        a[0] += b[0];
        return a;
      })[0] / pqSize;
      model = model.withInfo(model.info().withMetric("pq.mse", pqMse));
      lap(times, "metrics", tStep);
      return new Result(model, n, sampleSize, pqSize, times);
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

  private static long lap(java.util.Map<String, Double> times, String step, long since) {
    long now = System.nanoTime();
    times.put(step, Math.round((now - since) / 1e7) / 100.0);
    return now;
  }

  static float[] rotate(float[] r, float[] x) {
    int d = x.length;
    float[] y = new float[d];
    for (int i = 0; i < d; i++) {
      y[i] = VectorMath.dot(r, i * d, x, 0, d);
    }
    return y;
  }

  static float[] residual(float[] x, float[] centroids, int nlist) {
    int d = x.length;
    int a = KMeans.nearest(x, 0, centroids, nlist, d);
    float[] r = new float[d];
    for (int i = 0; i < d; i++) {
      r[i] = x[i] - centroids[a * d + i];
    }
    return r;
  }

  /** Non-parametric OPQ on the (cached) sample; returns the d × d rotation. */
  private float[] trainOpq(JavaSparkContext jsc, JavaRDD<float[]> x, int d, int m, int ksub,
      TreeMap<String, Double> metrics) {
    long seed = params.seed();
    float[] r = Procrustes.identity(d);
    float[] codebooks = trainPq(x, d, m, ksub, seed);
    for (int it = 0; it < params.opqIterations(); it++) {
      Broadcast<float[]> br = jsc.broadcast(r);
      Broadcast<float[]> bcb = jsc.broadcast(codebooks);
      OpqStats stats = orderedAggregate(x, () -> new OpqStats(d),
          (acc, v) -> acc.add(v, br.value(), bcb.value(), m, ksub), OpqStats::merge);
      metrics.put(String.format(Locale.ROOT, "opq.mse.iter%02d", it), stats.mse());
      LOG.info("OPQ iteration {}: PQ mse {}", it, stats.mse());
      br.destroy();
      bcb.destroy();
      r = Procrustes.rotation(stats.crossCovariance(), d);
      Broadcast<float[]> br2 = jsc.broadcast(r);
      for (int s = 0; s < QuantizerTrainer.OPQ_PQ_ITERATIONS; s++) {
        Broadcast<float[]> cb = jsc.broadcast(codebooks);
        PqLloydStats lloyd = orderedAggregate(x, () -> new PqLloydStats(m, ksub, d / m),
            (acc, v) -> acc.add(rotate(br2.value(), v), cb.value()), PqLloydStats::merge);
        codebooks = lloyd.codebooks(codebooks);
        cb.destroy();
      }
      br2.destroy();
    }
    return r;
  }

  /** M MLlib k-means fits over slices of the cached {@code data}; returns {@code M × ksub × dsub} codebooks. */
  private float[] trainPq(JavaRDD<float[]> data, int d, int m, int ksub, long seed) {
    int dsub = d / m;
    float[] codebooks = new float[m * ksub * dsub];
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(m, PQ_FIT_PARALLELISM));
    try {
      List<Future<float[]>> fits = new ArrayList<>();
      for (int j = 0; j < m; j++) {
        int from = j * dsub;
        long s = seed + 1 + j;
        int jj = j;
        JavaRDD<float[]> slice = data.map(v -> java.util.Arrays.copyOfRange(v, from, from + dsub));
        fits.add(pool.submit(() -> fitKMeans(slice, dsub, ksub, s, "PQ sub-quantizer " + jj)));
      }
      for (int j = 0; j < m; j++) {
        System.arraycopy(fits.get(j).get(), 0, codebooks, j * ksub * dsub, ksub * dsub);
      }
    } catch (Exception e) {
      throw new IllegalStateException("PQ training failed: " + e.getMessage(), e);
    } finally {
      pool.shutdownNow();
    }
    return codebooks;
  }

  /**
   * One MLlib {@code KMeans} fit (k-means|| init, maxIter, tol, seed). Returns {@code k × dim} centres; when MLlib
   * returns fewer (too few distinct points), they are repeated cyclically and a warning is logged.
   */
  float[] fitKMeans(JavaRDD<float[]> data, int dim, int k, long seed, String what) {
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
        .setInitMode("k-means||")
        .setMaxIter(params.maxIter())
        .setTol(params.tol())
        .setSeed(seed)
        .setFeaturesCol("features");
    KMeansModel model = km.fit(df);
    Vector[] centers = model.clusterCenters();
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
