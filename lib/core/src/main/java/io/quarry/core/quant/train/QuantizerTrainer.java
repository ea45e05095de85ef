package io.quarry.core.quant.train;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.component.ProductQuantizer;
import io.quarry.core.quant.component.VectorTransform;
import io.quarry.core.quant.kernel.VectorMath;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spark-free, in-memory training of a {@link QuantizerModel} from {@code n × d} vectors (row-major): optional OPQ
 * rotation, IVF coarse k-means, residual PQ. The same algorithm as the Spark job ({@code TrainQuantizerJob}), with
 * {@link KMeans} (k-means++ + Lloyd) in place of MLlib's k-means||; used by tests, benchmarks and small corpora.
 *
 * <p>Steps (their order is {@link TrainingSteps}, shared with the Spark trainer; this class implements them on
 * arrays):
 *
 * <ol>
 *   <li>Sample: at most {@code maxPointsPerCentroid × max(nlist, ksub)} vectors, chosen with the seed (FAISS caps each
 *       k-means at 256 points per centroid; the PQ k-means has {@code ksub} centroids). Fewer than {@code nlist} (or
 *       {@code ksub}) vectors is an error; fewer than 39 per centroid logs a warning (as FAISS).
 *   <li>OPQ (Ge et al., CVPR 2013, non-parametric): {@code R = I}; PQ k-means on {@code R x}; then {@code
 *       opqIterations} times: cross-covariance {@code A = Σ x ŷᵀ}, Procrustes {@code R = V Uᵀ}, {@code opqPqIterations}
 *       warm-started Lloyd steps of all M sub-quantizers on the newly rotated sample ({@link PqTraining#opq}). Starting from the identity
 *       makes the first iteration's error the plain PQ error.
 *   <li>IVF: k-means with {@code nlist} centroids on the rotated sample (skipped without IVF).
 *   <li>Lists: the rotated sample assigned to the lists, its residuals kept for the PQ.
 *   <li>Residual PQ: k-means with {@code ksub} centroids per sub-space on the residuals {@code R x − c_assign(x)} of
 *       at most {@code maxPointsPerCentroid × ksub} sample vectors (FAISS's cap for each PQ sub-quantizer).
 *   <li>Stats: {@code pq.mse} of the model over the PQ training vectors.
 * </ol>
 *
 * Metrics (mean squared error per vector): {@code ivf.mse} (residual energy, over the sample), {@code pq.mse} (final
 * reconstruction error, over the PQ training vectors), {@code pq.mse.heldout} (its leave-one-out estimate for vectors
 * not trained on, {@link PqHeldOutError}), {@code opq.mse.iter<i>}; and {@code ivf.splits}, {@code opq.splits},
 * {@code pq.splits}: empty clusters re-seeded by splitting a large one ({@link Lloyd#split}, FAISS's rule) in each
 * stage's k-means. Deterministic for a fixed input, parameters and seed. The OPQ alternation is {@link PqTraining#opq},
 * the code the Spark trainer runs.
 */
public final class QuantizerTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(QuantizerTrainer.class);

  /** FAISS's minimum recommended points per centroid; below it a warning is logged. */
  public static final int MIN_POINTS_PER_CENTROID = 39;

  /** Lloyd iterations of the PQ inside each OPQ iteration (FAISS {@code OPQMatrix::niter_pq = 4}). */
  public static final int OPQ_PQ_ITERATIONS = 4;

  private QuantizerTrainer() {}

  /**
   * Training parameters.
   *
   * @param seed seed of sampling and every k-means
   * @param maxIter maximum Lloyd iterations per k-means
   * @param tol relative objective decrease below which k-means stops
   * @param maxPointsPerCentroid sample cap per centroid
   * @param opqIterations OPQ alternations (ignored without OPQ)
   */
  public record Params(long seed, int maxIter, double tol, int maxPointsPerCentroid, int opqIterations) {
    public Params {
      if (maxIter < 1 || maxPointsPerCentroid < 1 || opqIterations < 0 || tol < 0) {
        throw new IllegalArgumentException("invalid training params: maxIter=" + maxIter + ", maxPointsPerCentroid="
            + maxPointsPerCentroid + ", opqIterations=" + opqIterations + ", tol=" + tol);
      }
    }

    /** FAISS-like defaults: 25 iterations, 256 points per centroid, 10 OPQ iterations. */
    public static Params defaults(long seed) {
      return new Params(seed, 25, 1e-4, 256, 10);
    }
  }

  /**
   * The sample cap for a spec: {@code maxPointsPerCentroid × max(nlist, ksub)}.
   */
  public static long sampleCap(IndexSpec spec, int maxPointsPerCentroid) {
    return (long) maxPointsPerCentroid * Math.max(spec.effectiveNlist(), Math.max(spec.ksub(), 1));
  }

  /**
   * Checks the number of training vectors against the spec: error below the largest k-means' centroid count, warning
   * below 39 points per centroid.
   *
   * @throws IllegalArgumentException when {@code n < nlist} or {@code n < ksub}
   */
  public static void checkSampleSize(long n, IndexSpec spec) {
    int nlist = spec.hasIvf() ? spec.nlist() : 0;
    int ksub = spec.ksub();
    int need = Math.max(nlist, ksub);
    if (n < need) {
      String what = nlist >= ksub ? "nlist = " + nlist : "2^nbits = " + ksub + " PQ centroids";
      throw new IllegalArgumentException("quantizer " + spec + ": " + n + " training vectors for " + what
          + "; need at least " + need);
    }
    if (n < (long) MIN_POINTS_PER_CENTROID * need) {
      LOG.warn("quantizer {}: only {} training vectors for {} centroids (FAISS recommends >= {} per centroid)",
          spec, n, need, MIN_POINTS_PER_CENTROID);
    }
  }

  /**
   * Trains a model.
   *
   * @param x {@code n × d} training vectors, row-major
   * @param n number of vectors
   * @param d dimension
   * @throws IllegalArgumentException on a bad shape, a non-finite value (naming the row), too few vectors, or a spec
   *     that does not fit {@code d}
   */
  public static QuantizerModel train(float[] x, int n, int d, IndexSpec spec, DistanceMetric metric, Params p) {
    spec.validateFor(d);
    if ((long) n * d != x.length) {
      throw new IllegalArgumentException("expected " + n + " × " + d + " floats, got " + x.length);
    }
    for (int i = 0; i < x.length; i++) {
      if (!Float.isFinite(x[i])) {
        throw new IllegalArgumentException("training vector " + (i / d) + ": non-finite value at dimension " + (i % d));
      }
    }
    checkSampleSize(n, spec);
    return new InMemorySteps(x, n, d, spec, metric, p).train();
  }

  /** The {@link TrainingSteps} on {@code n × d} row-major vectors in memory. */
  private static final class InMemorySteps extends TrainingSteps<float[]> {
    private final float[] x;
    private final int n;
    private int ns;
    private float[] sample;
    private float[] residuals;
    private int[] pqRows;

    InMemorySteps(float[] x, int n, int d, IndexSpec spec, DistanceMetric metric, Params p) {
      super(spec, metric, p, d);
      this.x = x;
      this.n = n;
    }

    @Override
    protected float[] sample() {
      int[] rows = sampleRows(n, sampleCap(spec, params.maxPointsPerCentroid()), params.seed());
      ns = rows.length;
      sample = rows.length == n ? x : KMeans.copyRows(x, d, rows);
      return sample;
    }

    @Override
    protected VectorTransform opq(float[] sample) {
      return VectorTransform.rotation(trainOpq(sample, ns, d, spec.opqM(), 1 << spec.nbits(), params, metrics), d);
    }

    @Override
    protected float[] rotate(float[] sample, VectorTransform rotation) {
      float[] xt = new float[ns * d];
      rotation.apply(sample, ns, xt);
      return xt;
    }

    @Override
    protected float[] ivf(float[] xt) {
      KMeans.Result ivf = KMeans.train(xt, ns, d, spec.effectiveNlist(), params.maxIter(), params.tol(),
          params.seed());
      metrics.put("ivf.splits", (double) ivf.splits());
      return ivf.centroids();
    }

    @Override
    protected CoarseQuantizer lists(float[] xt, CoarseQuantizer coarse) {
      int[] lists = new int[ns];
      coarse.assign(xt, ns, lists);
      residuals = new float[ns * d];
      coarse.residuals(xt, ns, lists, residuals);
      double ivfSse = 0;
      for (int i = 0; i < ns; i++) {
        ivfSse += VectorMath.dot(residuals, i * d, residuals, i * d, d);
      }
      metrics.put("ivf.mse", ivfSse / ns);
      return coarse;
    }

    @Override
    protected ProductQuantizer pq(float[] xt, CoarseQuantizer coarse) {
      // PQ training rows: all of the sample within FAISS's per-sub-quantizer cap, else a seeded subset
      pqRows = sampleRows(ns, (long) params.maxPointsPerCentroid() * spec.ksub(), params.seed() + 1);
      float[] pqResiduals = pqRows.length == ns ? residuals : KMeans.copyRows(residuals, d, pqRows);
      int[] splits = new int[1];
      ProductQuantizer pq = new ProductQuantizer(spec.pqM(), spec.nbits(), d / spec.pqM(), trainPq(pqResiduals,
          pqRows.length, d, spec.pqM(), spec.ksub(), params.maxIter(), params.tol(), params.seed(), splits));
      metrics.put("pq.splits", (double) splits[0]);
      metrics.put("pq.mse.heldout", PqHeldOutError.estimate(pq, pqResiduals, pqRows.length));
      return pq;
    }

    @Override
    protected double pqMse(QuantizerModel model) {
      int[] rows = pqRows != null ? pqRows : KMeans.range(ns);
      float[] pqSample = rows.length == ns ? sample : KMeans.copyRows(sample, d, rows);
      float[] err = model.encodeBatch(pqSample, rows.length).squaredErrors();
      double sse = 0;
      for (float e : err) {
        sse += e;
      }
      return sse / rows.length;
    }

    @Override
    protected long sampleSize() {
      return ns;
    }

    @Override
    protected String sparkVersion() {
      return "none";
    }
  }

  /**
   * Trains {@code M} independent sub-quantizers of {@code ksub} codewords on the {@code n × d} data: sub-space
   * {@code j} uses seed {@code seed + 1 + j}.
   *
   * @return codebooks {@code M × ksub × dsub}
   */
  public static float[] trainPq(float[] x, int n, int d, int m, int ksub, int maxIter, double tol, long seed) {
    return trainPq(x, n, d, m, ksub, maxIter, tol, seed, new int[1]);
  }

  /** {@link #trainPq(float[], int, int, int, int, int, double, long)} adding the k-means' splits to {@code splits[0]}. */
  static float[] trainPq(float[] x, int n, int d, int m, int ksub, int maxIter, double tol, long seed, int[] splits) {
    int dsub = d / m;
    float[] codebooks = new float[m * ksub * dsub];
    for (int j = 0; j < m; j++) {
      float[] sub = KMeans.slice(x, n, d, j * dsub, dsub);
      KMeans.Result r = KMeans.train(sub, n, dsub, ksub, maxIter, tol, seed + 1 + j);
      splits[0] += r.splits();
      float[] c = r.centroids();
      System.arraycopy(c, 0, codebooks, j * ksub * dsub, ksub * dsub);
    }
    return codebooks;
  }

  /**
   * Non-parametric OPQ on {@code n × d} raw vectors (see class javadoc).
   *
   * @return the {@code d × d} rotation
   */
  public static float[] trainOpq(float[] x, int n, int d, int m, int ksub, Params p, java.util.Map<String, Double> metrics) {
    int nbits = Integer.numberOfTrailingZeros(ksub);
    int[] splits = new int[1];
    ProductQuantizer pq = new ProductQuantizer(m, nbits, d / m,
        trainPq(x, n, d, m, ksub, p.maxIter(), p.tol(), p.seed(), splits));
    PqTraining.OpqResult res = PqTraining.opq(PqTraining.inMemory(java.util.List.of(x), new int[] {n}, d,
        QuantizerModel.ENCODE_BLOCK, null), d, pq, p.opqIterations(), OPQ_PQ_ITERATIONS,
        PqTraining.splitRandom(p.seed(), "opq"), metrics);
    metrics.put("opq.splits", (double) (splits[0] + res.splits()));
    return res.rotation().matrix();
  }

  /** Up to {@code cap} distinct row indices out of {@code n}, chosen with {@code seed}, in increasing order. */
  static int[] sampleRows(int n, long cap, long seed) {
    if (n <= cap) {
      return KMeans.range(n);
    }
    int k = (int) cap;
    int[] perm = KMeans.range(n);
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = 0; i < k; i++) {
      int j = i + rnd.nextInt(n - i);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    int[] rows = Arrays.copyOf(perm, k);
    Arrays.sort(rows);
    return rows;
  }
}
