package io.quarry.jobs.train;

import io.quarry.core.config.QuantizerConfig;
import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.train.CoarseStats;
import io.quarry.core.quant.train.OpqStats;
import io.quarry.core.quant.train.PqLloydStats;
import io.quarry.core.quant.train.PqTraining;
import io.quarry.core.quant.train.QuantizerTrainer;
import io.quarry.core.quant.train.SampleKeys;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.sql.SparkSession;

/**
 * Trains a {@link QuantizerModel} on Spark: MLlib {@code KMeans} (k-means||) for the IVF coarse quantizer; the PQ
 * codebooks and OPQ (Ge et al., CVPR 2013, non-parametric) with distributed aggregations that serve all M
 * sub-quantizers in one pass. The math lives in {@code io.quarry.core.quant}; this class holds the options and runs
 * the steps in the order of {@link io.quarry.core.quant.train.TrainingSteps} (shared with the in-memory {@link
 * QuantizerTrainer}), implemented on Spark by {@link SparkTrainingSteps}: the IVF fits in {@link MllibIvf}, the
 * PQ/OPQ passes in {@link SparkPqTraining}. Every per-vector step runs on batches of {@link OrderedBatches#BATCH} rows
 * of a partition ({@link OrderedBatches#mapBatches}, {@link OrderedBatches#orderedBatchAggregate}) with the
 * components' blocked kernels.
 *
 * <p>Steps and passes:
 *
 * <ol>
 *   <li><b>Sample</b> (2 passes, a third for the PQ sub-sample): every vector gets the key {@link SampleKeys#key}(seed, id); the vectors with the
 *       {@code cap = maxPointsPerCentroid × max(nlist, ksub)} smallest keys are kept (the FAISS cap applied to the
 *       largest k-means): which vectors is independent of partitioning, and they stay in input order and
 *       partitioning so that MLlib's seeded k-means|| sees the same partitions on every run. The sample stays
 *       distributed (cached); nothing but centroids, codebooks, {@code ksub} initial vectors and d × d matrices
 *       reaches the driver. Fewer vectors than {@code max(nlist, ksub)} is an error, fewer than 39 per centroid a
 *       warning. OPQ and PQ train on the {@code maxPointsPerCentroid × ksub} sample vectors with the smallest keys
 *       (FAISS's cap for each PQ sub-quantizer), cached once.
 *   <li><b>OPQ</b> (only with {@code OPQ<M>}): PQ initialised as in step 5 (from {@code R = I}); then per iteration
 *       one ordered aggregation of the d × d cross-covariance {@code Σ x ŷᵀ} ({@link OpqStats}), the SVD/Procrustes
 *       update on the driver, and 4 Lloyd passes, each serving all M sub-quantizers at once ({@link PqLloydStats};
 *       the loop is {@link PqTraining#opq}, shared with the in-memory trainer).
 *   <li><b>IVF</b>: MLlib {@code KMeans(k = nlist, k-means||, maxIter, tol, seed)} on the rotated sample; {@link
 *       #withIvfOptions} can choose random initialisation (FAISS's), the k-means|| rounds and MLlib's solver.
 *   <li><b>Lists</b> (timed with the PQ): one pass counts the lists and sums the IVF error over the sample ({@link
 *       CoarseStats}); every list MLlib left empty is re-seeded by FAISS's split of a large one (metric {@code
 *       ivf.splits}); after a split {@code ivf.mse} is the residual energy of the PQ training vectors under the final
 *       lists (no second pass over the sample).
 *   <li><b>Residual PQ</b>: the residuals {@code R x − c_assign(x)} of the PQ training vectors are cached; every
 *       sub-codebook starts from the {@code ksub} training vectors with the smallest keys (seeded random
 *       initialisation, as FAISS's PQ k-means), then up to {@code maxIter} Lloyd passes (tol as k-means), each one
 *       ordered aggregation of {@link PqLloydStats} updating all M codebooks. So the PQ costs {@code ≤ maxIter} Spark
 *       jobs in all, where M MLlib fits (before issue 12) cost {@code M × (k-means|| init + maxIter)} jobs.
 *   <li><b>Stats</b>: {@code pq.mse}, the model's error over the PQ training vectors.
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
  // the options, read by SparkTrainingSteps
  final SparkSession spark;
  final IndexSpec spec;
  final DistanceMetric metric;
  final QuantizerTrainer.Params params;

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

  public SparkQuantizerTrainer(SparkSession spark, IndexSpec spec, DistanceMetric metric,
      QuantizerTrainer.Params params) {
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

  IvfOptions ivf = IvfOptions.defaults();

  String ivfTraining = "flat";
  int ivfRefinePasses;

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
   * Default of {@link #withLocalPassBytes}: a training set of at most 256 MiB of vectors ({@code size × d × 4}
   * bytes) is collected to the driver for the PQ and OPQ passes — the 8-bit PQ's sample (at most {@code
   * maxPointsPerCentroid × 256 = 65,536} vectors) up to {@code d = 1,024}.
   */
  public static final long DEFAULT_LOCAL_PASS_BYTES = 256L << 20;

  long localPassBytes = DEFAULT_LOCAL_PASS_BYTES;

  /**
   * Where the PQ/OPQ Lloyd and rotation passes run: a training set of at most {@code bytes} ({@code size × d × 4}) is
   * collected once to the driver in its partitions (one Spark job) and every pass runs there ({@link
   * PqTraining#inMemory}, the partitions in parallel threads; {@link SparkPqTraining}), instead of one Spark job per
   * pass; larger sets stay distributed. Both give the same model bits (the same per-partition sums merged in
   * partition order). 0: always distributed. Returns this.
   */
  public SparkQuantizerTrainer withLocalPassBytes(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("local pass bytes must be >= 0, got " + bytes);
    }
    this.localPassBytes = bytes;
    return this;
  }

  int ivfRefineSteps = 0;

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
   * Trains on {@code (id, vector)} pairs: the steps of {@link io.quarry.core.quant.train.TrainingSteps}, run by
   * {@link SparkTrainingSteps}. Vectors must be valid (dimension {@code d}, finite); see {@link TrainQuantizerJob} for
   * the validation and quarantine of the input.
   *
   * @param vectors id → raw vector of dimension {@code d}
   * @param d the dimension
   * @param n number of vectors (already counted by the caller)
   * @throws IllegalArgumentException when the spec does not fit {@code d} or there are too few vectors
   */
  public Result train(JavaPairRDD<String, float[]> vectors, int d, long n) {
    spec.validateFor(d);
    QuantizerTrainer.checkSampleSize(n, spec);
    SparkTrainingSteps steps = new SparkTrainingSteps(this, vectors, d, n);
    try {
      QuantizerModel model = steps.train();
      return new Result(model, n, steps.sampleSize, steps.subSize, steps.times, steps.cpu);
    } finally {
      steps.release();
    }
  }
}
