package io.quarry.jobs.train;

import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.train.KMeans;
import io.quarry.core.quant.train.QuantizerTrainer;
import io.quarry.core.quant.train.SampleKeys;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Two-level training of the IVF coarse quantizer for large nlist, FAISS's {@code two_level_clustering}
 * (faiss/contrib/clustering.py, used by its {@code train_ivf_index_with_2level}):
 *
 * <ol>
 *   <li>Level 1: MLlib {@code KMeans} with {@code k1 = round(√nlist)} on the sample vectors with the smallest
 *       sample keys, {@code max(maxPointsPerCentroid × k1, }{@link #LEVEL1_MIN_SAMPLE}{@code )} of them (FAISS caps
 *       every clustering, level 1 included, at {@code maxPointsPerCentroid × k}), with the trainer's IVF options
 *       (init, solver, maxIter, tol, seed);
 *   <li>each sample vector goes to its nearest level-1 centre ({@link CoarseQuantizer#assign}); the nlist level-2
 *       centroids are apportioned to the level-1 clusters in proportion to their populations ({@link #apportion}:
 *       largest remainder, at least one per non-empty cluster, at most its population, summing exactly to nlist);
 *   <li>level 2: one in-memory k-means ({@link KMeans}: k-means++ then Lloyd, maxIter, tol; seed {@code
 *       SampleKeys.mix(seed + 1 + c1)}; the assignment step the coarse quantizer's exact one, its products in MLlib's
 *       native BLAS when loaded — same centroids without it; the seeding's distances in the wide Vector API kernel)
 *       per level-1 cluster, the clusters spread over parallel Spark tasks (a cluster's vectors sorted by sample key
 *       first, so the result does not depend on shuffle order). FAISS seeds its k-means with random rows instead;
 *       measured here (100k × IVF1024, bench-train, 2026-12-08) that cost 3.5 % IVF MSE (0.3352 vs 0.3237) and 0.012
 *       R@10, so k-means++ stays;
 *   <li>optionally {@code refinePasses} flat Lloyd iterations of MLlib's {@code KMeans} over the whole sample from the
 *       concatenated centroids (MLlib RDD {@code KMeans.setInitialModel}; Spark 4.2's {@code ml} estimator, the one
 *       with the block solver, cannot start from given centres).
 * </ol>
 *
 * <p>Cost per Lloyd pass: level 1 {@code max(256 · nlist, 65,536 · √nlist) × d} (its capped sample × √nlist
 * centres), level 2 {@code Σ_c S_c × k_c × d ≈ S × √nlist × d} (S =
 * sample size, {@code 256 · nlist} with FAISS's cap), against {@code S × nlist × d} for the flat k-means: ≈ √nlist / 2
 * times less (64× at IVF16384, 128× at IVF65536). The result is {@code nlist × d} centroids, row-major, level-1
 * cluster by level-1 cluster. Deterministic for a given sample, seed and partitioning.
 */
final class TwoLevelIvf {
  private static final Logger LOG = LoggerFactory.getLogger(TwoLevelIvf.class);

  private TwoLevelIvf() {}

  /**
   * Fewest vectors level 1 trains on (when the sample has them): 65,536, the 8-bit PQ's sample. Measured
   * (docs/benchmarks.md, 2026-12-07): FAISS's cap alone (256 per level-1 centre: 8,192 vectors at IVF1024) left the
   * 100k × IVF1024 IVF MSE at 0.3344 against 0.3262 on the whole sample (FAISS 0.3259); at 1M × IVF4096 the cap
   * (16,384 vectors) changed nothing (0.2625 vs 0.2624) and cut level 1 from ≈ 110 s (MLlib over 1M vectors) to
   * ≈ 10 s.
   */
  static final long LEVEL1_MIN_SAMPLE = 65_536;

  /** Level-1 cluster count for {@code nlist} lists: {@code round(√nlist)}, at least 1 (FAISS: {@code int(√nlist)}). */
  static int level1Clusters(int nlist) {
    return Math.max(1, (int) Math.round(Math.sqrt(nlist)));
  }

  /**
   * Splits {@code total} centroids over clusters in proportion to {@code population} (Hamilton's largest remainder
   * method): quota {@code q_i = total · p_i / Σp}; every non-empty cluster gets {@code max(1, ⌊q_i⌋)} capped at
   * {@code p_i}; the rest goes one by one to the largest remainders {@code q_i − a_i} (ties: lower index) among the
   * clusters below their population; if the floor of 1 overshot, one is taken back from the clusters with the
   * smallest remainders among those holding more than one. Empty clusters get 0.
   *
   * @return counts summing exactly to {@code total}
   * @throws IllegalArgumentException when {@code total} is below the number of non-empty clusters or above the total
   *     population
   */
  static int[] apportion(long[] population, int total) {
    long sum = checkedSum(population, total);
    int n = population.length;
    int[] a = new int[n];
    double[] rem = new double[n];
    long given = 0;
    for (int i = 0; i < n; i++) {
      if (population[i] == 0) {
        continue;
      }
      double q = (double) total * population[i] / sum;
      a[i] = (int) Math.min(population[i], Math.max(1, (long) Math.floor(q)));
      rem[i] = q - a[i];
      given += a[i];
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    // by remainder, largest first, then lower index (a total, deterministic order)
    Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -rem[i]).thenComparingInt(i -> i));
    while (given < total) { // each round gives at most one more to every cluster below its population
      boolean progress = false;
      for (int k = 0; k < n && given < total; k++) {
        int i = order[k];
        if (a[i] < population[i]) {
          a[i]++;
          given++;
          progress = true;
        }
      }
      if (!progress) {
        throw new IllegalStateException("apportion: no cluster can take another centroid"); // excluded above
      }
    }
    while (given > total) { // the floor of 1 overshot: take back from the smallest remainders first
      boolean progress = false;
      for (int k = n - 1; k >= 0 && given > total; k--) {
        int i = order[k];
        if (a[i] > 1) {
          a[i]--;
          given--;
          progress = true;
        }
      }
      if (!progress) {
        throw new IllegalStateException("apportion: no cluster can give a centroid back"); // excluded above
      }
    }
    return a;
  }

  /** The total population; throws when {@code total} centroids cannot be apportioned ({@link #apportion}). */
  private static long checkedSum(long[] population, int total) {
    long sum = 0;
    int nonEmpty = 0;
    for (long p : population) {
      if (p < 0) {
        throw new IllegalArgumentException("negative population " + p);
      }
      sum += p;
      nonEmpty += p > 0 ? 1 : 0;
    }
    if (total < nonEmpty || total > sum) {
      throw new IllegalArgumentException("cannot split " + total + " centroids over " + nonEmpty
          + " non-empty clusters holding " + sum + " vectors");
    }
    return sum;
  }

  /**
   * Trains {@code nlist} IVF centroids in two levels.
   *
   * @param mllib the trainer's MLlib k-means ({@link MllibIvf#fit}, IVF options) that runs level 1 and whose Lloyd
   *     ({@link MllibIvf#lloyd}) runs the refinement
   * @param xtKeyed sample key → (rotated) sample vector of {@code d} floats, cached by the caller
   * @param sampleSize vectors in {@code xtKeyed}, ≥ nlist
   * @param params the seed, the Lloyd iterations and relative tolerance of each k-means, and the sample cap per
   *     centroid (level 1's training vectors)
   * @param refinePasses flat MLlib Lloyd iterations over the whole sample afterwards (0: none)
   * @return {@code nlist × d} centroids, row-major
   */
  static float[] train(MllibIvf mllib, JavaPairRDD<Long, float[]> xtKeyed, long sampleSize, int d,
      int nlist, QuantizerTrainer.Params params, int refinePasses) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(xtKeyed.context());
    long seed = params.seed();
    int maxIter = params.maxIter();
    double tol = params.tol();
    int k1 = level1Clusters(nlist);
    long cap1 = Math.max((long) params.maxPointsPerCentroid() * k1, LEVEL1_MIN_SAMPLE);
    JavaRDD<float[]> level1Set = xtKeyed.values();
    if (sampleSize > cap1) {
      long bound = OrderedBatches.smallestKeyBound(xtKeyed, sampleSize, cap1);
      level1Set = xtKeyed.filter(t -> t._1() <= bound).values();
    }
    float[] c1 = mllib.fit(level1Set, d, k1, seed, "IVF level 1", maxIter);
    Broadcast<CoarseQuantizer> bq1 = jsc.broadcast(CoarseQuantizer.ivf(c1, k1, d));
    try {
      // not cached: the assignment to k1 ≈ √nlist centres is cheap next to holding another copy of the sample
      // (6 GB at 4M × 384, spilled to disk beside the cached sample), so the count and the shuffle each assign
      JavaPairRDD<Integer, Tuple2<Long, float[]>> byCluster = byLevel1(xtKeyed, bq1, d);
      long[] population = new long[k1];
      for (Map.Entry<Integer, Long> e : byCluster.keys().countByValue().entrySet()) {
        population[e.getKey()] = e.getValue();
      }
      int[] k2 = apportion(population, nlist);
      LOG.info("IVF two-level: {} level-1 clusters of {} sample vectors (largest {}, smallest non-empty {}); {} "
          + "centroids apportioned (largest share {})", k1, sampleSize, Arrays.stream(population).max().orElse(0),
          Arrays.stream(population).filter(p -> p > 0).min().orElse(0), nlist,
          Arrays.stream(k2).max().orElse(0));
      Broadcast<int[]> bk2 = jsc.broadcast(k2);
      List<Tuple2<Integer, float[]>> level2 = level2(byCluster, bk2, new LargestFirst(population), d, seed, maxIter,
          tol);
      bk2.destroy();
      float[] out = concat(level2, k1, k2, nlist, d);
      if (refinePasses > 0) {
        out = mllib.lloyd(xtKeyed.values(), out, d, nlist, seed, refinePasses);
      }
      return out;
    } finally {
      bq1.destroy();
    }
  }

  /**
   * (level-1 cluster, (sample key, vector)), assigned in batches (native BLAS shortlist when MLlib loaded one).
   */
  private static JavaPairRDD<Integer, Tuple2<Long, float[]>> byLevel1(JavaPairRDD<Long, float[]> xtKeyed,
      Broadcast<CoarseQuantizer> bq1, int d) {
    return xtKeyed.mapPartitionsToPair(it -> {
      List<Tuple2<Integer, Tuple2<Long, float[]>>> out = new ArrayList<>();
      List<Tuple2<Long, float[]>> batch = new ArrayList<>(OrderedBatches.BATCH);
      float[] x = new float[OrderedBatches.BATCH * d];
      int[] lists = new int[OrderedBatches.BATCH];
      while (it.hasNext() || !batch.isEmpty()) {
        if (it.hasNext()) {
          Tuple2<Long, float[]> t = it.next();
          System.arraycopy(t._2(), 0, x, batch.size() * d, d);
          batch.add(t);
        }
        if (batch.size() == OrderedBatches.BATCH || (!it.hasNext() && !batch.isEmpty())) {
          bq1.value().assign(x, batch.size(), lists, MllibBlasProducts.ifNative());
          for (int i = 0; i < batch.size(); i++) {
            out.add(new Tuple2<>(lists[i], batch.get(i)));
          }
          batch.clear();
        }
      }
      return out.iterator();
    });
  }

  /** Level 2: one in-memory k-means per level-1 cluster, {@code k2[c]} centroids, in parallel Spark tasks. */
  private static List<Tuple2<Integer, float[]>> level2(JavaPairRDD<Integer, Tuple2<Long, float[]>> byCluster,
      Broadcast<int[]> bk2, LargestFirst partitioner, int d, long seed, int maxIter, double tol) {
    return byCluster.groupByKey(partitioner).map(g -> {
      int c = g._1();
      List<Tuple2<Long, float[]>> pts = new ArrayList<>();
      g._2().forEach(pts::add);
      // shuffle order varies between runs: sort by sample key, then by the vector's floats (a total order)
      pts.sort((p, q) -> {
        int r = Long.compare(p._1(), q._1());
        return r != 0 ? r : Arrays.compare(p._2(), q._2());
      });
      int n = pts.size();
      float[] x = new float[n * d];
      for (int i = 0; i < n; i++) {
        System.arraycopy(pts.get(i)._2(), 0, x, i * d, d);
      }
      int k = bk2.value()[c];
      KMeans.Result r = KMeans.train(x, n, d, k, maxIter, tol, SampleKeys.mix(seed + 1 + c),
          MllibBlasProducts.ifNative());
      return new Tuple2<>(c, r.centroids());
    }).collect();
  }

  /**
   * One partition per level-1 cluster, numbered by descending population (ties: lower cluster id), so Spark starts
   * the largest clusters' k-means first (longest processing time first). A level-2 k-means costs about
   * {@code n_c × k_c ∝ n_c²}, so one large cluster (4M × IVF16384: up to 407,317 vectors and 1,668 centroids) started
   * last would leave the other cores idle. Measured: one 4M run with this order was not faster than one without
   * (IVF step 677 s vs 620 s, over different level-1 clusterings; docs/benchmarks.md): the step's cost is the
   * seeding's total there, not one straggler.
   */
  static final class LargestFirst extends org.apache.spark.Partitioner {
    private final int[] rank;

    LargestFirst(long[] population) {
      Integer[] order = new Integer[population.length];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      Arrays.sort(order, Comparator.<Integer>comparingLong(i -> -population[i]).thenComparingInt(i -> i));
      rank = new int[population.length];
      for (int r = 0; r < order.length; r++) {
        rank[order[r]] = r;
      }
    }

    @Override
    public int numPartitions() {
      return Math.max(1, rank.length);
    }

    @Override
    public int getPartition(Object cluster) {
      return rank[(Integer) cluster];
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof LargestFirst other && Arrays.equals(rank, other.rank);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(rank);
    }
  }

  /** The level-2 centroids concatenated level-1 cluster by level-1 cluster: {@code nlist × d}. */
  private static float[] concat(List<Tuple2<Integer, float[]>> level2, int k1, int[] k2, int nlist, int d) {
    float[][] byC1 = new float[k1][];
    for (Tuple2<Integer, float[]> t : level2) {
      byC1[t._1()] = t._2();
    }
    float[] out = new float[nlist * d];
    int o = 0;
    for (int c = 0; c < k1; c++) {
      if (k2[c] > 0) {
        System.arraycopy(byC1[c], 0, out, o, k2[c] * d);
        o += k2[c] * d;
      }
    }
    return out;
  }
}
