package io.quarry.jobs.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.quant.train.QuantizerTrainer;
import io.quarry.jobs.SparkTest;
import io.quarry.jobs.SparkTestSupport;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

/**
 * The Spark trainer's PQ/OPQ passes collected to the driver (a bounded sample) give the distributed passes' model
 * bytes; MLlib's empty IVF lists are re-seeded by FAISS's split.
 */
@SparkTest
class SparkTrainerPassesTest {
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkTestSupport.localSpark("train-passes-test", 4);
  }

  @AfterAll
  static void stop() {
    SparkTestSupport.release(spark);
  }

  static JavaPairRDD<String, float[]> rdd(float[] x, int n, int d) {
    List<Tuple2<String, float[]>> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(new Tuple2<>("c" + i, java.util.Arrays.copyOfRange(x, i * d, (i + 1) * d)));
    }
    return JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelizePairs(rows, 4).cache();
  }

  @Test
  void localPassesGiveTheDistributedPassesModelBytes() {
    float[] x = TrainQuantizerJobTest.data();
    int n = TrainQuantizerJobTest.N;
    int d = TrainQuantizerJobTest.DIM;
    JavaPairRDD<String, float[]> v = rdd(x, n, d);
    IndexSpec spec = IndexSpec.parse("OPQ4,IVF8,PQ4x6");
    // maxPointsPerCentroid 32: PQ/OPQ train on the 2,048 smallest keys of the 2,500 vectors (a filtered sub-sample)
    QuantizerTrainer.Params p = new QuantizerTrainer.Params(42, 8, 1e-4, 32, 3);
    QuantizerModel distributed = new SparkQuantizerTrainer(spark, spec, DistanceMetric.L2, p).withLocalPassBytes(0)
        .train(v, d, n).model();
    QuantizerModel local = new SparkQuantizerTrainer(spark, spec, DistanceMetric.L2, p).train(v, d, n).model();
    assertThat(QuantizerFormat.toBytes(local)).isEqualTo(QuantizerFormat.toBytes(distributed));
    assertThat(local.info().metrics()).containsKeys("opq.splits", "pq.splits", "ivf.splits");
    v.unpersist();
  }

  /**
   * 20 distinct vectors, each repeated: MLlib's random initialisation draws duplicate centres, whose lists stay empty
   * in MLlib (it keeps an empty cluster's centre); the trainer splits large lists for them.
   */
  @Test
  void emptyIvfListsLeftByMllibAreSplit() {
    int d = 8;
    int distinct = 20;
    int n = 2000;
    java.util.Random rnd = new java.util.Random(5);
    float[] base = new float[distinct * d];
    for (int i = 0; i < base.length; i++) {
      base[i] = (float) rnd.nextGaussian();
    }
    float[] x = new float[n * d];
    for (int i = 0; i < n; i++) {
      System.arraycopy(base, (i % distinct) * d, x, i * d, d);
    }
    JavaPairRDD<String, float[]> v = rdd(x, n, d);
    QuantizerTrainer.Params p = new QuantizerTrainer.Params(7, 10, 1e-4, 256, 0);
    QuantizerModel m = new SparkQuantizerTrainer(spark, IndexSpec.parse("IVF16,PQ2x4"), DistanceMetric.L2, p)
        .withIvfOptions(new SparkQuantizerTrainer.IvfOptions("random", 2, null, 0)).train(v, d, n).model();
    assertThat(m.info().metrics().get("ivf.splits")).isPositive();
    float[] c = m.coarse().centroids();
    Set<String> rows = new HashSet<>();
    for (int l = 0; l < 16; l++) {
      rows.add(java.util.Arrays.toString(java.util.Arrays.copyOfRange(c, l * d, (l + 1) * d)));
    }
    assertThat(rows).hasSize(16); // no duplicate (stale) centre is left
    // Quarry's Lloyd steps with the split after MLlib's fit: counted, reproducible
    QuantizerModel r1 = new SparkQuantizerTrainer(spark, IndexSpec.parse("IVF16,PQ2x4"), DistanceMetric.L2, p)
        .withIvfOptions(new SparkQuantizerTrainer.IvfOptions("random", 2, null, 0)).withIvfRefineSteps(2)
        .train(v, d, n).model();
    QuantizerModel r2 = new SparkQuantizerTrainer(spark, IndexSpec.parse("IVF16,PQ2x4"), DistanceMetric.L2, p)
        .withIvfOptions(new SparkQuantizerTrainer.IvfOptions("random", 2, null, 0)).withIvfRefineSteps(2)
        .train(v, d, n).model();
    assertThat(r1.info().metrics()).containsKey("ivf.refine.splits");
    assertThat(QuantizerFormat.toBytes(r1)).isEqualTo(QuantizerFormat.toBytes(r2));
    assertThat(r1.info().metrics().get("ivf.mse")).isLessThanOrEqualTo(m.info().metrics().get("ivf.mse") * 1.0001);
    v.unpersist();
  }
}
