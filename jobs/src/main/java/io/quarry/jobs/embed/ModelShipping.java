package io.quarry.jobs.embed;

import io.quarry.core.config.EmbeddingConfig;
import io.quarry.embed.ModelFiles;
import io.quarry.jobs.JobContext;
import java.io.FileNotFoundException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkFiles;

/**
 * Gets a user-supplied model ({@code embedding.model: custom}) from any Hadoop path to every executor once: the
 * driver checks the directory and registers it with {@code SparkContext.addFile} (recursive); each executor JVM
 * downloads it once into its SparkFiles directory, where tasks find it ({@link #local}). Bundled models need
 * nothing: they are classpath resources.
 */
public final class ModelShipping {
  /** A {@code modelPath} starting with this names a directory shipped with {@code addFile}. */
  public static final String SPARK_FILE_PREFIX = "sparkfiles:";

  private ModelShipping() {}

  /**
   * Ships a custom model directory (no-op for bundled models).
   *
   * @return the config to hand to executor code (resolve it there with {@link #local})
   * @throws FileNotFoundException naming {@code embedding.modelPath} when {@code model.onnx} or
   *     {@code tokenizer.json} is missing
   */
  public static EmbeddingConfig ship(JobContext ctx, EmbeddingConfig ec) throws Exception {
    if (!ModelFiles.CUSTOM.equals(ec.model()) || ec.modelPath().startsWith(SPARK_FILE_PREFIX)) {
      return ec;
    }
    Path dir = new Path(ec.modelPath());
    FileSystem fs = dir.getFileSystem(ctx.hadoopConf());
    for (String f : new String[] {"model.onnx", "tokenizer.json"}) {
      if (!fs.exists(new Path(dir, f))) {
        throw new FileNotFoundException("embedding.modelPath: " + new Path(dir, f) + " not found");
      }
    }
    String qualified = fs.makeQualified(dir).toString();
    if (!ctx.spark().sparkContext().listFiles().contains(qualified)) {
      ctx.spark().sparkContext().addFile(qualified, true);
    }
    return new EmbeddingConfig(ec.model(), SPARK_FILE_PREFIX + dir.getName(), ec.batchSize(), ec.maxSeqLength(),
        ec.intraOpThreads());
  }

  /** The config with a shipped model path resolved to this JVM's local copy (driver or executor). */
  public static EmbeddingConfig local(EmbeddingConfig cfg) {
    if (cfg.modelPath() != null && cfg.modelPath().startsWith(SPARK_FILE_PREFIX)) {
      String local = SparkFiles.get(cfg.modelPath().substring(SPARK_FILE_PREFIX.length()));
      return new EmbeddingConfig(cfg.model(), local, cfg.batchSize(), cfg.maxSeqLength(), cfg.intraOpThreads());
    }
    return cfg;
  }
}
