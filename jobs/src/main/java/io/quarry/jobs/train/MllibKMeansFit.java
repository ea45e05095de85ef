package io.quarry.jobs.train;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.util.Instrumentation;
import org.apache.spark.ml.util.Instrumentation$;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fits Spark MLlib's {@link KMeans} and returns its centres, without the training summary that {@code KMeans.fit}
 * always computes.
 *
 * <p>{@code KMeans.fit} (Spark 3.x and 4.x) ends with {@code model.transform(dataset)} and logs the summary's
 * {@code clusterSizes}: one more pass over the whole training set that assigns every row with the <em>row-wise</em>
 * {@code KMeansModel.predict}, whatever the solver. For the block (GEMM) solver that pass dominates: at 1,000,000 ×
 * 384 and k = 4,096 the ten block Lloyd iterations took ≈ 11 minutes on two cores and the summary pass was on its way
 * to ≈ 45 more (per-row {@code Vectors.sqdist} against every centre: MLlib's norm shortcut never applies to unit
 * vectors; docs/benchmarks.md, "Issue 12"). Quarry never reads the summary, so for {@code solver = block} this class
 * runs the same estimator's block training ({@code KMeans.trainWithBlock}, the method {@code fit} calls, inside
 * MLlib's own {@code Instrumentation.instrumented}) and skips the summary. The centres are MLlib's, bit for bit
 * ({@code MllibKMeansFitTest}). The method is Spark-internal: when a Spark version does not have it, the fit falls
 * back to {@code KMeans.fit} with a warning, so only the time differs.
 */
final class MllibKMeansFit {
  private static final Logger LOG = LoggerFactory.getLogger(MllibKMeansFit.class);
  private static final Method TRAIN_WITH_BLOCK = find();

  private MllibKMeansFit() {}

  private static Method find() {
    try {
      Method m = KMeans.class.getDeclaredMethod("trainWithBlock", Dataset.class, Instrumentation.class);
      m.setAccessible(true);
      return m;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /** Whether the summary-free block path is available in this Spark. */
  static boolean summaryFreeBlockPath() {
    return TRAIN_WITH_BLOCK != null;
  }

  /**
   * The centres of {@code km} fitted on {@code df} (MLlib's order; fewer than k when the data has fewer distinct
   * points).
   *
   * @param km the configured estimator; with {@code getSolver() == "block"} the summary pass is skipped
   * @param df rows with {@code km}'s features column
   */
  static Vector[] centres(KMeans km, Dataset<Row> df) {
    if (!"block".equals(km.getSolver()) || TRAIN_WITH_BLOCK == null) {
      if ("block".equals(km.getSolver())) {
        LOG.warn("MLlib KMeans.trainWithBlock not found in this Spark: fitting with KMeans.fit (adds a row-wise "
            + "prediction pass over the training set for its summary)");
      }
      return km.fit(df).clusterCenters();
    }
    org.apache.spark.mllib.clustering.KMeansModel m = Instrumentation$.MODULE$.instrumented(
        (scala.Function1<Instrumentation, org.apache.spark.mllib.clustering.KMeansModel>) instr -> {
          instr.logPipelineStage(km);
          instr.logDataset(df);
          try {
            return (org.apache.spark.mllib.clustering.KMeansModel) TRAIN_WITH_BLOCK.invoke(km, df, instr);
          } catch (InvocationTargetException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
              throw r;
            }
            if (c instanceof Error err) {
              throw err;
            }
            throw new IllegalStateException("MLlib KMeans training failed", c);
          } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
          }
        });
    org.apache.spark.mllib.linalg.Vector[] old = m.clusterCenters();
    Vector[] out = new Vector[old.length];
    for (int i = 0; i < old.length; i++) {
      out[i] = old[i].asML();
    }
    return out;
  }
}
