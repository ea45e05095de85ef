package io.quarry.jobs.embed;

import io.quarry.core.config.EmbeddingConfig;
import io.quarry.embed.ModelFiles;
import io.quarry.embed.ModelResolver;
import io.quarry.embed.ModelSpec;
import io.quarry.jobs.JobContext;
import java.io.FileNotFoundException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkFiles;

/**
 * Gets the model to every executor once: a user-supplied model ({@code embedding.model: custom}) from any Hadoop
 * path, a bundled model whose jar is not on the classpath from the jar {@link ModelResolver} finds or downloads on
 * the driver (local Maven repository, cache, Maven Central). The driver registers the directory or jar with
 * {@code SparkContext.addFile}; each executor JVM downloads it once into its SparkFiles directory, where tasks find it
 * ({@link #local}), so executors need no network and no extra jar. The default model needs nothing: it is a
 * classpath resource.
 */
public final class ModelShipping {
  /** A {@code modelPath} starting with this names a directory shipped with {@code addFile}. */
  public static final String SPARK_FILE_PREFIX = "sparkfiles:";

  /** The files a model directory must hold. */
  private static final String[] MODEL_FILES = {"model.onnx", "tokenizer.json"};

  private ModelShipping() {}

  /**
   * Ships a custom model directory or a bundled model's jar (no-op when the bundled model is on the classpath).
   *
   * @return the config to hand to executor code (resolve it there with {@link #local})
   * @throws FileNotFoundException naming {@code embedding.modelPath} when {@code model.onnx} or
   *     {@code tokenizer.json} is missing
   * @throws io.quarry.embed.EmbedderException naming the artifact and the command that pre-fetches it when a
   *     bundled model's jar is not on this machine and cannot be downloaded
   */
  public static EmbeddingConfig ship(JobContext ctx, EmbeddingConfig ec) throws Exception {
    if (ec.modelPath() != null && ec.modelPath().startsWith(SPARK_FILE_PREFIX)) {
      return ec;
    }
    if (!ModelFiles.CUSTOM.equals(ec.model())) {
      ModelSpec spec = ModelFiles.specOf(ec);
      if (ModelFiles.onClasspath(spec)) {
        return ec;
      }
      java.nio.file.Path jar = ModelResolver.fromEnvironment().resolve(spec);
      String uri = new Path(jar.toUri()).toString();
      if (!ctx.spark().sparkContext().listFiles().contains(uri)) {
        ctx.spark().sparkContext().addFile(uri);
      }
      return new EmbeddingConfig(ec.model(), SPARK_FILE_PREFIX + jar.getFileName(), ec.batchSize(),
          ec.maxSeqLength(), ec.intraOpThreads());
    }
    Path dir = new Path(ec.modelPath());
    FileSystem fs = dir.getFileSystem(ctx.hadoopConf());
    requireModelFiles(fs, dir, "embedding.modelPath");
    String qualified = fs.makeQualified(dir).toString();
    if (!ctx.spark().sparkContext().listFiles().contains(qualified)) {
      ctx.spark().sparkContext().addFile(qualified, true);
    }
    return new EmbeddingConfig(ec.model(), SPARK_FILE_PREFIX + dir.getName(), ec.batchSize(), ec.maxSeqLength(),
        ec.intraOpThreads());
  }

  /**
   * A local directory with the model files of {@code dir} (any Hadoop path), for code that runs on the driver only
   * (e.g. the evaluation's cross-encoder): the directory itself on the local filesystem, else a fresh copy of
   * {@code model.onnx} and {@code tokenizer.json} under {@code java.io.tmpdir/quarry-models/}.
   *
   * @param key the config key that named {@code dir}, for the error message
   * @throws FileNotFoundException naming {@code key} and the missing file
   */
  public static java.nio.file.Path localDir(JobContext ctx, String dir, String key) throws java.io.IOException {
    Path hp = new Path(dir);
    FileSystem fs = ctx.fs(dir);
    requireModelFiles(fs, hp, key);
    if (fs instanceof org.apache.hadoop.fs.LocalFileSystem lfs) {
      return lfs.pathToFile(hp).toPath();
    }
    java.nio.file.Path local = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "quarry-models",
        Integer.toHexString(dir.hashCode()) + "-" + hp.getName());
    java.nio.file.Files.createDirectories(local);
    for (String f : MODEL_FILES) {
      java.nio.file.Files.deleteIfExists(local.resolve(f));
      fs.copyToLocalFile(false, new Path(hp, f), new Path(local.resolve(f).toUri()), true);
    }
    return local;
  }

  private static void requireModelFiles(FileSystem fs, Path dir, String key) throws java.io.IOException {
    for (String f : MODEL_FILES) {
      if (!fs.exists(new Path(dir, f))) {
        throw new FileNotFoundException(key + ": " + new Path(dir, f) + " not found (the directory needs "
            + String.join(" and ", MODEL_FILES) + ")");
      }
    }
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
