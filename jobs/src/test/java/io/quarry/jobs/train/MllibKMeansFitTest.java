package io.quarry.jobs.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.jobs.SparkTest;
import io.quarry.jobs.SparkTestSupport;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The summary-free block fit returns MLlib's own centres, bit for bit, on this Spark. */
@SparkTest
class MllibKMeansFitTest {
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkTestSupport.localSpark("kmeans-fit-test", 4);
  }

  @AfterAll
  static void stop() {
    SparkTestSupport.release(spark);
  }

  static Dataset<Row> clustered(int n, int d, int clusters, long seed) {
    Random rnd = new Random(seed);
    double[][] centres = new double[clusters][d];
    for (double[] c : centres) {
      for (int i = 0; i < d; i++) {
        c[i] = rnd.nextGaussian();
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      double[] c = centres[rnd.nextInt(clusters)];
      double[] x = new double[d];
      for (int i = 0; i < d; i++) {
        x[i] = c[i] + 0.2 * rnd.nextGaussian();
      }
      rows.add(RowFactory.create(Vectors.dense(x)));
    }
    StructType schema = new StructType().add("features", SQLDataTypes.VectorType(), false);
    return spark.createDataFrame(rows, schema).repartition(3);
  }

  @Test
  void blockFitWithoutSummaryEqualsKMeansFit() {
    assertThat(MllibKMeansFit.summaryFreeBlockPath())
        .as("KMeans.trainWithBlock exists in this Spark (else the fit falls back to KMeans.fit)").isTrue();
    Dataset<Row> df = clustered(3000, 24, 12, 5).cache();
    for (String init : List.of("random", "k-means||")) {
      KMeans km = new KMeans().setK(16).setInitMode(init).setMaxIter(6).setTol(0).setSeed(42).setSolver("block");
      Vector[] fast = MllibKMeansFit.centres(km, df);
      Vector[] fit = km.fit(df).clusterCenters();
      assertThat(fast).as(init).hasSize(16).containsExactly(fit);
    }
    KMeans row = new KMeans().setK(8).setMaxIter(4).setSeed(7).setSolver("row");
    assertThat(MllibKMeansFit.centres(row, df)).containsExactly(row.fit(df).clusterCenters());
  }
}
