package io.quarry.jobs.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.quant.train.QuantizerTrainer;
import io.quarry.jobs.SparkTest;
import io.quarry.jobs.SparkTestSupport;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

/**
 * Two-level IVF training ({@link TwoLevelIvf}): the apportionment of nlist over the level-1 clusters, and on a small
 * Spark run an IVF MSE close to the flat k-means', byte-identical models on a rerun, and {@code auto} = flat below
 * the threshold.
 */
@SparkTest
class TwoLevelIvfTest {
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkTestSupport.localSpark("two-level-ivf-test", 3);
  }

  @AfterAll
  static void stop() {
    SparkTestSupport.release(spark);
  }

  @Test
  void apportionIsProportionalByLargestRemainderAndSumsExactly() {
    // quotas 2.5, 1.5, 1.0: floors 2, 1, 1; the one left goes to the largest remainder, the tie to the lower index
    assertThat(TwoLevelIvf.apportion(new long[] {5, 3, 2}, 5)).containsExactly(3, 1, 1);
    assertThat(TwoLevelIvf.apportion(new long[] {10, 0, 5}, 3)).containsExactly(2, 0, 1);
    // at least one per non-empty cluster: the floor of 1 overshoots and the largest share gives back
    assertThat(TwoLevelIvf.apportion(new long[] {1000, 1, 1, 1}, 4)).containsExactly(1, 1, 1, 1);
    assertThat(TwoLevelIvf.apportion(new long[] {1000, 1, 1, 1}, 10)).containsExactly(7, 1, 1, 1);
    assertThat(TwoLevelIvf.apportion(new long[] {2, 100}, 50)).containsExactly(1, 49);
    assertThat(TwoLevelIvf.apportion(new long[] {2, 100}, 101)).containsExactly(2, 99);
    assertThat(TwoLevelIvf.apportion(new long[] {2, 100}, 102)).containsExactly(2, 100);
    Random rnd = new Random(3);
    for (int trial = 0; trial < 200; trial++) {
      long[] pop = new long[1 + rnd.nextInt(300)];
      long sum = 0;
      int nonEmpty = 0;
      for (int i = 0; i < pop.length; i++) {
        pop[i] = rnd.nextInt(4) == 0 ? 0 : 1 + rnd.nextInt(rnd.nextBoolean() ? 5 : 5000);
        sum += pop[i];
        nonEmpty += pop[i] > 0 ? 1 : 0;
      }
      if (nonEmpty == 0) {
        continue;
      }
      int total = (int) Math.min(sum, nonEmpty + rnd.nextInt(70_000));
      int[] a = TwoLevelIvf.apportion(pop, total);
      assertThat(Arrays.stream(a).sum()).isEqualTo(total);
      boolean floorOfOne = false;
      for (long p : pop) {
        floorOfOne |= p > 0 && (double) total * p / sum < 1;
      }
      for (int i = 0; i < pop.length; i++) {
        assertThat(a[i]).isBetween(pop[i] > 0 ? 1 : 0, (int) pop[i]);
        // Hamilton's method: strictly within one of the quota, unless the floor of 1 forced a take-back
        double q = (double) total * pop[i] / sum;
        if (!floorOfOne) {
          assertThat(Math.abs(a[i] - q)).isLessThan(1.0);
        }
      }
    }
    assertThatThrownBy(() -> TwoLevelIvf.apportion(new long[] {1, 1, 1}, 2)).isInstanceOf(
        IllegalArgumentException.class);
    assertThatThrownBy(() -> TwoLevelIvf.apportion(new long[] {1, 1}, 3)).isInstanceOf(IllegalArgumentException.class);
    assertThat(TwoLevelIvf.level1Clusters(65_536)).isEqualTo(256);
    assertThat(TwoLevelIvf.level1Clusters(16_384)).isEqualTo(128);
    assertThat(TwoLevelIvf.level1Clusters(1)).isEqualTo(1);
  }

  private static JavaPairRDD<String, float[]> data(int n, int d, int clusters, long seed) {
    Random rnd = new Random(seed);
    float[][] centres = new float[clusters][d];
    for (float[] c : centres) {
      for (int t = 0; t < d; t++) {
        c[t] = (float) rnd.nextGaussian();
      }
    }
    List<Tuple2<String, float[]>> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] c = centres[rnd.nextInt(clusters)];
      float[] x = new float[d];
      for (int t = 0; t < d; t++) {
        x[t] = c[t] + 0.4f * (float) rnd.nextGaussian();
      }
      rows.add(new Tuple2<>("c" + i, x));
    }
    return JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelizePairs(rows, 4).cache();
  }

  private static QuantizerModel train(JavaPairRDD<String, float[]> data, int d, long n, String mode) {
    return train(data, d, n, mode, "IVF100,Flat");
  }

  private static QuantizerModel train(JavaPairRDD<String, float[]> data, int d, long n, String mode, String spec) {
    QuantizerTrainer.Params params = new QuantizerTrainer.Params(42, 10, 1e-4, 256, 0);
    return new SparkQuantizerTrainer(spark, IndexSpec.parse(spec), DistanceMetric.L2, params)
        .withIvfOptions(new SparkQuantizerTrainer.IvfOptions("random", 2, "block", 0))
        .withIvfTraining(mode, 0).train(data, d, n).model();
  }

  @Test
  void twoLevelIvfMseIsCloseToFlatDeterministicAndAutoIsFlatBelowTheThreshold() throws Exception {
    int n = 12_000;
    int d = 16;
    JavaPairRDD<String, float[]> data = data(n, d, 30, 11);
    QuantizerModel flat = train(data, d, n, "flat");
    QuantizerModel two = train(data, d, n, "two-level");
    double flatMse = flat.info().metrics().get("ivf.mse");
    double twoMse = two.info().metrics().get("ivf.mse");
    System.out.printf("IVF100 on %d × %d: IVF MSE flat %.5f, two-level %.5f (ratio %.4f)%n", n, d, flatMse, twoMse,
        twoMse / flatMse);
    assertThat(two.nlist()).isEqualTo(100);
    assertThat(QuantizerFormat.toBytes(two)).as("two-level differs from flat").isNotEqualTo(
        QuantizerFormat.toBytes(flat));
    assertThat(twoMse / flatMse).as("two-level IVF MSE / flat IVF MSE").isBetween(0.9, 1.05);
    assertThat(QuantizerFormat.toBytes(train(data, d, n, "two-level"))).as("rerun: same bytes")
        .isEqualTo(QuantizerFormat.toBytes(two));
    assertThat(QuantizerFormat.toBytes(train(data, d, n, "auto"))).as("auto below 1,024 lists is flat")
        .isEqualTo(QuantizerFormat.toBytes(flat));
    data.unpersist();
  }

  /** Level 2's partitions: one per level-1 cluster, the most populous first (ties by cluster id). */
  @Test
  void largestClustersGetTheFirstPartitions() {
    TwoLevelIvf.LargestFirst p = new TwoLevelIvf.LargestFirst(new long[] {10, 400, 0, 25, 400});
    assertThat(p.numPartitions()).isEqualTo(5);
    assertThat(new int[] {p.getPartition(0), p.getPartition(1), p.getPartition(2), p.getPartition(3),
        p.getPartition(4)}).containsExactly(3, 0, 4, 2, 1);
    assertThat(p).isEqualTo(new TwoLevelIvf.LargestFirst(new long[] {10, 400, 0, 25, 400}));
  }

  /** After two-level training the lists are counted over the 32 · nlist sample vectors with the smallest keys. */
  @Test
  void twoLevelCountsTheListsOverTheSmallestKeysOnly() {
    int n = 5_000;
    int nlist = 10;
    List<Tuple2<Long, float[]>> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(new Tuple2<>((long) ((i * 7_919L) % n), new float[] {i}));
    }
    JavaPairRDD<Long, float[]> keyed = JavaPairRDD.fromJavaRDD(
        JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, 4));
    long cap = (long) SparkTrainingSteps.COUNT_PER_LIST * nlist;
    List<float[]> counted = SparkTrainingSteps.countSet(keyed, n, nlist, true).collect();
    assertThat(counted).hasSize((int) cap);
    assertThat(counted).allSatisfy(v -> assertThat(((long) v[0] * 7_919L) % n).isLessThan(cap));
    assertThat(SparkTrainingSteps.countSet(keyed, n, nlist, false).count()).as("flat: the whole sample").isEqualTo(n);
    assertThat(SparkTrainingSteps.countSet(keyed, n, 1_000, true).count()).as("sample within the cap").isEqualTo(n);
  }

  @Test
  void levelOneTrainsOnItsCappedSampleAndStaysCloseToFlat() {
    // IVF400: sample 70,000 (cap 256 · 400 = 102,400), level 1 k = 20 on the 65,536 vectors with the smallest keys
    int n = 70_000;
    int d = 4;
    JavaPairRDD<String, float[]> data = data(n, d, 40, 5);
    assertThat(Math.max(256L * TwoLevelIvf.level1Clusters(400), TwoLevelIvf.LEVEL1_MIN_SAMPLE)).isLessThan(n);
    QuantizerModel flat = train(data, d, n, "flat", "IVF400,Flat");
    QuantizerModel two = train(data, d, n, "two-level", "IVF400,Flat");
    double ratio = two.info().metrics().get("ivf.mse") / flat.info().metrics().get("ivf.mse");
    System.out.printf("IVF400 on %d × %d, level 1 on a capped sample: IVF MSE two-level / flat %.4f%n", n, d, ratio);
    assertThat(two.nlist()).isEqualTo(400);
    assertThat(ratio).as("two-level IVF MSE / flat IVF MSE").isBetween(0.9, 1.05);
    assertThat(QuantizerFormat.toBytes(train(data, d, n, "two-level", "IVF400,Flat"))).as("rerun: same bytes")
        .isEqualTo(QuantizerFormat.toBytes(two));
    data.unpersist();
  }
}
