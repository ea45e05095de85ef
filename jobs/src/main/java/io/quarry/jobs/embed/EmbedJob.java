package io.quarry.jobs.embed;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.quarry.core.chunk.ReuseKey;
import io.quarry.core.config.EmbeddingConfig;
import io.quarry.core.config.QuarryConfig;
import io.quarry.core.platform.Platform;
import io.quarry.embed.Embedder;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.PreviousOutput;
import io.quarry.jobs.StageJob;
import io.quarry.jobs.avro.EmbeddingRecord;
import io.quarry.jobs.chunk.ChunkJob;
import io.quarry.jobs.chunk.Progress;
import io.quarry.jobs.chunk.SparkAvro;
import java.io.FileNotFoundException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.CollectionAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 2, embed: reads the chunk dataset and writes one L2-normalized vector per chunk, computed by ONNX Runtime
 * inside the executors ({@code mapPartitions}, one session per executor JVM, batches sorted by length).
 *
 * <p>Output at {@code paths.embeddings}: Parquet with schema {@code embedding.avsc} ({@code chunk_id},
 * {@code doc_id}, {@code vector}), partitioned by hash of {@code chunk_id} into {@code spark.sql.shuffle.partitions}
 * files, sorted by {@code chunk_id} within each; plus {@code _model.json} ({@code modelId}, {@code sha256} of the
 * ONNX file, {@code dim}, {@code pooling}, {@code maxSeqLength}, prefixes, the executors' {@code platforms}) and
 * {@code _summary.json} (underscore: Spark skips such files when reading the directory): read the
 * vectors with {@code spark.read().option("pathGlobFilter", "*.parquet").parquet(dir)}. The text
 * embedded is {@link io.quarry.core.chunk.Chunk#embeddingText} (title prepended when
 * {@code chunking.prependTitle}), with the model's passage prefix.
 *
 * <p>The partitioning and the order within partitions depend only on the data and the config, so batches, and
 * with them the int8 models' dynamically quantized activations, are the same from run to run.
 *
 * <p>Embedding reuse ({@code embedding.reuseFrom}, {@link EmbeddingReuse}): every row carries its
 * {@code reuse_key} ({@link ReuseKey}); chunks whose key has a vector in the previous dataset get that vector,
 * byte-identical, the others are embedded; the union is written with the same partitioning and order.
 * {@code _summary.json} reports {@code reused + computed = chunks} and {@code dropped}. When the previous dataset
 * is this stage's own output ({@code auto}, or the same path), the new output is written to
 * {@code <paths.embeddings>.staging} and swapped in after it is complete.
 *
 * <p>Fails fast, before any Spark work, when the chunks are missing, {@code embedding.reuseFrom} names a missing
 * path, or the model cannot be loaded.
 */
public final class EmbedJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(EmbedJob.class);

  /** Spark schema of the embedding dataset, derived from {@code embedding.avsc}. */
  public static final StructType EMBEDDING_SCHEMA = SparkAvro.structOf(EmbeddingRecord.getClassSchema());

  @Override
  public String name() {
    return "embed";
  }

  /** A missing {@code embedding.reuseFrom} path fails before any stage of the run (e.g. chunk in a pipeline). */
  @Override
  public void preflight(JobContext ctx) throws Exception {
    EmbeddingReuse.resolve(ctx, ctx.config().embedding(), ctx.config().paths().embeddingsDir());
  }

  @Override
  public JobSummary run(JobContext ctx) throws Exception {
    QuarryConfig cfg = ctx.config();
    String chunksDir = cfg.paths().chunksDir();
    String out = cfg.paths().embeddingsDir();
    if (!ctx.exists(chunksDir)) {
      throw new FileNotFoundException("paths.chunks: " + chunksDir + " not found (run the chunk stage first)");
    }
    long t0 = System.nanoTime();
    EmbeddingConfig ec = cfg.embedding();
    PreviousOutput reuseSource = EmbeddingReuse.resolve(ctx, ec, out); // fails fast on a missing path
    EmbeddingConfig execCfg = ModelShipping.ship(ctx, ec);
    Embedder driverModel = Embedder.open(ModelShipping.local(execCfg)); // fails fast; gives id, sha, dim
    JobSummary summary = new JobSummary(name());
    summary.put("model", driverModel.modelId()).put("sha256", driverModel.modelSha256())
        .put("dim", driverModel.dim()).put("batchSize", ec.batchSize()).put("maxSeqLength", ec.maxSeqLength())
        .put("intraOpThreads", ec.intraOpThreads());

    Dataset<Row> chunks = readChunks(ctx, driverModel);
    long n = chunks.count();
    if (n == 0) {
      throw new IllegalArgumentException("paths.chunks: " + chunksDir + " holds no chunk");
    }
    EmbeddingReuse.Plan plan = EmbeddingReuse.plan(ctx, reuseSource, driverModel.modelSha256(), chunks, summary);
    long computed = plan.reused() == null ? n : plan.toEmbed().count();
    summary.put("reused", n - computed).put("computed", computed);
    long tEmbed = System.nanoTime();
    List<Platform> platforms = embedAndWrite(ctx, execCfg, plan, computed, reuseSource.writeDir(out), summary);
    plan.release();
    reuseSource.swap(ctx, out);
    summary.put("platforms", Platform.describe(platforms));
    LOG.info("embed: vectors computed on {}", Platform.describe(platforms));
    double embedSecs = (System.nanoTime() - tEmbed) / 1e9;
    checkWritten(ctx, out, n);
    ctx.writeString(child(out, "_model.json"), modelJson(driverModel, ec, platforms));
    double secs = (System.nanoTime() - t0) / 1e9;
    summary.put("chunks", n).put("output", out)
        .put("embedSeconds", Math.round(embedSecs * 100) / 100.0)
        .put("chunksPerSecond", Math.round(computed / embedSecs * 10) / 10.0)
        .put("tokensPerSecond", Math.round(((Long) summary.get("tokens")) / embedSecs))
        .put("seconds", Math.round(secs * 100) / 100.0);
    ExtraEmbeddings.run(ctx, summary); // embedding.extraModels: the same chunks with each further model
    ctx.writeString(ChunkJob.summaryPath(out), summary.toJson());
    LOG.info("embed: {} chunks ({} reused, {} computed) in {} s ({} chunks/s)", n, n - computed, computed,
        Math.round(embedSecs), summary.get("chunksPerSecond"));
    return summary;
  }

  /** The chunks with their reuse keys ({@link EmbeddingReuse#withKeys}) for {@code model}. */
  private static Dataset<Row> readChunks(JobContext ctx, Embedder model) {
    QuarryConfig cfg = ctx.config();
    Dataset<Row> chunks = ctx.spark().read().option("pathGlobFilter", "*.parquet").parquet(cfg.paths().chunksDir())
        .select("chunk_id", "doc_id", "title", "text");
    return EmbeddingReuse.withKeys(chunks, ReuseKey.of(model.modelSha256(), cfg.chunking(),
        cfg.embedding().maxSeqLength(), model.spec().passagePrefix()), cfg.chunking().prependTitle());
  }

  /** Every chunk has its vector in {@code out}: {@code n} rows read back. */
  private static void checkWritten(JobContext ctx, String out, long n) {
    long written = ctx.spark().read().option("pathGlobFilter", "*.parquet").parquet(out).count();
    if (written != n) {
      throw new IllegalStateException("embed: wrote " + written + " vectors for " + n + " chunks");
    }
  }

  /**
   * Embeds the chunks {@code plan} leaves to embed ({@link EmbedPartition} in the executors, {@code computed} of them,
   * partitioned by the hash of chunk_id and sorted by it), adds the reused vectors in the same layout and writes the
   * union to {@code writeDir}; puts {@code tokens} and {@code chunksEmbedded}. Returns the executors' platforms.
   */
  private static List<Platform> embedAndWrite(JobContext ctx, EmbeddingConfig execCfg, EmbeddingReuse.Plan plan,
      long computed, String writeDir, JobSummary summary) {
    QuarryConfig cfg = ctx.config();
    int partitions = Integer.parseInt(ctx.spark().conf().get("spark.sql.shuffle.partitions", "200"));
    int groupSize = Math.max(cfg.embedding().batchSize() * 32, 512);
    CollectionAccumulator<Platform> platformAcc = ctx.spark().sparkContext().collectionAccumulator("embed platforms");
    try (Progress progress = new Progress(ctx.spark().sparkContext(), LOG, "embed", "chunks", computed, "tokens",
        10)) {
      JavaRDD<Row> rows = plan.toEmbed().repartition(partitions, col("chunk_id")).sortWithinPartitions("chunk_id")
          .javaRDD().mapPartitions(new EmbedPartition(execCfg, cfg.chunking().prependTitle(), groupSize,
              progress.done(), progress.secondary(), platformAcc));
      Dataset<Row> vectors = ctx.spark().createDataFrame(rows, EMBEDDING_SCHEMA);
      if (plan.reused() != null) { // same layout as without reuse: hash of chunk_id, sorted by chunk_id
        vectors = vectors.union(ctx.spark().createDataFrame(plan.reused().javaRDD(), EMBEDDING_SCHEMA))
            .repartition(partitions, col("chunk_id")).sortWithinPartitions("chunk_id");
      }
      vectors.write().mode("overwrite").parquet(writeDir);
      summary.put("tokens", progress.secondary().value()).put("chunksEmbedded", progress.done().value());
    }
    return Platform.distinct(platformAcc.value());
  }

  /**
   * {@code _model.json}: the model that produced the vectors, and the {@code platforms} (processor instruction sets,
   * ONNX Runtime version) of the executors that ran it.
   */
  static String modelJson(Embedder m, EmbeddingConfig ec, List<Platform> platforms) throws Exception {
    Map<String, Object> j = new LinkedHashMap<>();
    j.put("modelId", m.modelId());
    j.put("sha256", m.modelSha256());
    j.put("dim", m.dim());
    j.put("pooling", m.pooling().code());
    j.put("maxSeqLength", ec.maxSeqLength());
    j.put("queryPrefix", m.spec().queryPrefix());
    j.put("passagePrefix", m.spec().passagePrefix());
    j.put("normalized", true);
    j.put("platforms", platforms);
    return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(j);
  }

  static String child(String dir, String name) {
    return (dir.endsWith("/") ? dir : dir + "/") + name;
  }
}
