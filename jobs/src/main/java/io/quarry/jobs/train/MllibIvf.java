package io.quarry.jobs.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MLlib k-means of the IVF coarse quantizer ({@link SparkQuantizerTrainer.IvfOptions}: init mode, k-means||
 * rounds, solver): one fit ({@link #fit}) or Lloyd iterations from given centres ({@link #lloyd}). Used by the Spark
 * trainer's IVF step and by {@link TwoLevelIvf}.
 *
 * @param ivf MLlib's init mode, k-means|| rounds and solver
 * @param tol MLlib's tolerance (epsilon)
 */
record MllibIvf(SparkSession spark, SparkQuantizerTrainer.IvfOptions ivf, double tol) {
  private static final Logger LOG = LoggerFactory.getLogger(MllibIvf.class);

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
        .setEpsilon(tol)
        .setSeed(seed)
        .setInitialModel(new org.apache.spark.mllib.clustering.KMeansModel(c0))
        .run(rdd.rdd());
    org.apache.spark.mllib.linalg.Vector[] centers = m.clusterCenters();
    Vector[] ml = new Vector[centers.length];
    for (int c = 0; c < ml.length; c++) {
      ml[c] = centers[c].asML();
    }
    return toFloats(ml, k, dim);
  }

  /**
   * One MLlib {@code KMeans} fit (the options' init, maxIter, tol, seed). Returns {@code k × dim} centres; when MLlib
   * returns fewer (too few distinct points), they are repeated cyclically and a warning is logged.
   */
  float[] fit(JavaRDD<float[]> data, int dim, int k, long seed, String what, int maxIter) {
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
        .setTol(tol)
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
    return toFloats(centers, k, dim);
  }

  /** {@code k × dim} floats of the centres, repeated cyclically when there are fewer than k. */
  private static float[] toFloats(Vector[] centers, int k, int dim) {
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
