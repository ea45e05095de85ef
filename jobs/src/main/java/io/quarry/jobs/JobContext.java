package io.quarry.jobs;

import io.quarry.core.config.QuarryConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * What every stage job gets: the Spark session, the resolved config and its hash, and Hadoop filesystem helpers
 * that work the same on local paths, {@code file://} and {@code s3a://}.
 */
public record JobContext(SparkSession spark, QuarryConfig config, String configJson, String configHash) {

  public Configuration hadoopConf() {
    return spark.sparkContext().hadoopConfiguration();
  }

  /** The filesystem that holds {@code path}. */
  public FileSystem fs(String path) throws IOException {
    return new Path(path).getFileSystem(hadoopConf());
  }

  public boolean exists(String path) throws IOException {
    return fs(path).exists(new Path(path));
  }

  public InputStream open(String path) throws IOException {
    return fs(path).open(new Path(path));
  }

  public OutputStream create(String path) throws IOException {
    return fs(path).create(new Path(path), true);
  }

  public String readString(String path) throws IOException {
    try (InputStream in = open(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  public void writeString(String path, String text) throws IOException {
    try (OutputStream out = create(path)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }

  /**
   * This context with {@code overrides} ({@code key.path=value}, as {@code --set}) applied to its resolved config; the
   * recorded config JSON and hash stay the run's.
   *
   * @throws io.quarry.core.config.ConfigException if an override is invalid
   */
  public JobContext with(String... overrides) {
    QuarryConfig c = io.quarry.core.config.ConfigLoader.load(List.of(new io.quarry.core.config.ConfigLoader.Source(
        "resolved config", io.quarry.core.config.ConfigLoader.toJson(config))), List.of(overrides));
    return new JobContext(spark, c, configJson, configHash);
  }

  /** Deletes {@code path} recursively if it exists (a re-run of a stage replaces its own output). */
  public void deleteIfExists(String path) throws IOException {
    FileSystem fs = fs(path);
    Path p = new Path(path);
    if (fs.exists(p)) {
      fs.delete(p, true);
    }
  }
}
