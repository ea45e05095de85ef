package io.quarry.jobs;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The Hadoop configuration the driver reads files with before (or outside) a stage: config files, {@code compare}'s
 * evaluations and baseline. Its own class so that commands ({@code QuarryCli}, {@code CompareCommand}) depend on it
 * and not on each other.
 */
public final class DriverHadoopConf {
  private DriverHadoopConf() {}

  /**
   * The active Spark session's Hadoop configuration (when there is one) overlaid with the {@code spark.hadoop.*}
   * properties of a fresh {@link SparkConf} (what spark-submit's {@code --conf} and {@code spark-defaults.conf} set,
   * as system properties), prefix removed: the same S3A endpoint, credentials provider, etc. that the Spark session
   * gets.
   */
  public static Configuration get() {
    Configuration c = SparkSession.getActiveSession().isDefined()
        ? new Configuration(SparkSession.getActiveSession().get().sparkContext().hadoopConfiguration())
        : new Configuration();
    for (scala.Tuple2<String, String> kv : new SparkConf().getAllWithPrefix("spark.hadoop.")) {
      c.set(kv._1(), kv._2());
    }
    return c;
  }
}
