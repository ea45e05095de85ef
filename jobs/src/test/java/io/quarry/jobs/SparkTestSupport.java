package io.quarry.jobs;

import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.QuarryConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** Shared set-up of the Spark job tests: a loopback local[2] session and job contexts from config overrides. */
public final class SparkTestSupport {
  private SparkTestSupport() {}

  /** A {@code local[2]} session with the UI off, bound to 127.0.0.1. */
  public static SparkSession localSpark(String appName, int shufflePartitions) {
    return SparkSession.builder().master("local[2]").appName(appName)
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", String.valueOf(shufflePartitions)).getOrCreate();
  }

  /** A job context: built-in defaults, {@code paths.work=<work>}, then {@code overrides} in order. */
  public static JobContext context(SparkSession spark, Path work, String... overrides) {
    List<String> o = new ArrayList<>(List.of("paths.work=" + work));
    o.addAll(List.of(overrides));
    QuarryConfig c = ConfigLoader.load(List.of(), o);
    return new JobContext(spark, c, ConfigLoader.toJson(c), ConfigLoader.hash(c));
  }
}
