package io.quarry.jobs.embed;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.chunk.ReuseKey;
import io.quarry.core.config.EmbeddingConfig;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.PreviousOutput;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.Arrays;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embedding reuse for the embed stage ({@code embedding.reuseFrom}): the vector of every chunk whose reuse key
 * ({@link ReuseKey}: model SHA-256, chunking parameters, exact text given to the model) is in a previous embeddings
 * dataset is copied from it, byte for byte; only the other chunks are embedded. All of it is Spark work (a left
 * outer join on {@code reuse_key}); the driver only reads the previous {@code _model.json}.
 *
 * <p>The previous dataset is not used (every chunk is embedded, the reason is logged and put in
 * {@code _summary.json} as {@code reuse}) when it has no {@code _model.json}, when its model SHA-256 differs from
 * the current model's, or when its rows have no {@code reuse_key} column (written before reuse existed).
 */
final class EmbeddingReuse {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddingReuse.class);

  private EmbeddingReuse() {}

  /**
   * Resolves {@code embedding.reuseFrom} ({@link PreviousOutput#resolve}).
   *
   * @throws FileNotFoundException naming {@code embedding.reuseFrom} when it is a path that does not exist
   */
  static PreviousOutput resolve(JobContext ctx, EmbeddingConfig ec, String out) throws IOException {
    return PreviousOutput.resolve(ctx, "embedding.reuseFrom", ec.reuseFrom(), out, "a previous embeddings directory");
  }

  /** Adds {@code reuse_key} to chunk rows {@code (chunk_id, doc_id, title, text)}. */
  static Dataset<Row> withKeys(Dataset<Row> chunks, ReuseKey keyer, boolean prependTitle) {
    UserDefinedFunction key = functions.udf(
        (UDF2<String, String, String>) (title, text) -> keyer.key(title, text, prependTitle), DataTypes.StringType)
        .asNonNullable();
    return chunks.withColumn("reuse_key", key.apply(col("title"), col("text")));
  }

  /**
   * The split of the chunks into reused and to-embed rows.
   *
   * @param toEmbed chunk rows {@code (chunk_id, doc_id, title, text, reuse_key)} without a previous vector
   * @param reused embedding rows {@code (chunk_id, doc_id, vector, reuse_key)} with the previous vector, or null
   *     when nothing can be reused
   */
  record Plan(Dataset<Row> toEmbed, Dataset<Row> reused, Dataset<Row> cached) {
    /** Frees the join both datasets are read from (cached: it is read by a count and by the write). */
    void release() {
      if (cached != null) {
        cached.unpersist();
      }
    }
  }

  /**
   * Joins the keyed chunks with the previous dataset and records {@code reuse}, {@code reuseFrom},
   * {@code previousRows} and {@code dropped} (previous rows whose key no current chunk has: the chunk changed,
   * went away, or the previous dataset cannot be used at all) in {@code summary}.
   */
  static Plan plan(JobContext ctx, PreviousOutput src, String modelSha256, Dataset<Row> keyed, JobSummary summary)
      throws IOException {
    summary.put("reuseFrom", src.dir() == null ? "" : src.dir());
    if (src.dir() == null) {
      return none(keyed, summary, src.note(), 0, 0);
    }
    String modelFile = EmbedJob.child(src.dir(), "_model.json");
    if (!ctx.exists(modelFile)) {
      return none(keyed, summary, src.dir() + " has no _model.json: not an embeddings dataset", 0, 0);
    }
    Dataset<Row> prev = ctx.spark().read().option("pathGlobFilter", "*.parquet").parquet(src.dir());
    long previousRows = prev.count();
    JsonNode model = new ObjectMapper().readTree(ctx.readString(modelFile));
    String prevSha = model.path("sha256").asText("");
    if (!prevSha.equals(modelSha256)) {
      return none(keyed, summary, "previous model " + model.path("modelId").asText("?") + " (sha256 " + prevSha
          + ") is not the current model (sha256 " + modelSha256 + ")", previousRows, previousRows);
    }
    if (!Arrays.asList(prev.columns()).contains("reuse_key")) {
      return none(keyed, summary, src.dir() + " has no reuse_key column (written before embedding reuse)",
          previousRows, previousRows);
    }
    // One vector per key (chunks with equal text share a key): the one of the smallest chunk id, deterministic.
    Dataset<Row> prevByKey = prev.where(col("reuse_key").isNotNull())
        .groupBy(col("reuse_key").as("p_key"))
        .agg(functions.min_by(col("vector"), col("chunk_id")).as("p_vector"));
    Dataset<Row> joined = keyed.join(prevByKey, keyed.col("reuse_key").equalTo(prevByKey.col("p_key")),
        "left_outer").persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> toEmbed = joined.where(col("p_vector").isNull())
        .select("chunk_id", "doc_id", "title", "text", "reuse_key");
    Dataset<Row> reused = joined.where(col("p_vector").isNotNull())
        .select(col("chunk_id"), col("doc_id"), col("p_vector").as("vector"), col("reuse_key"));
    Dataset<Row> current = keyed.select(col("reuse_key").as("c_key")).distinct();
    long dropped = prev.join(current, prev.col("reuse_key").equalTo(current.col("c_key")), "left_anti").count();
    summary.put("reuse", "used").put("previousRows", previousRows).put("dropped", dropped);
    LOG.info("embed: reusing vectors from {} ({} rows, {} of them for chunks that changed or went away)",
        src.dir(), previousRows, dropped);
    return new Plan(toEmbed, reused, joined);
  }

  private static Plan none(Dataset<Row> keyed, JobSummary summary, String why, long previousRows, long dropped) {
    summary.put("reuse", "none: " + why).put("previousRows", previousRows).put("dropped", dropped);
    LOG.info("embed: no embedding reuse, every chunk is embedded ({})", why);
    return new Plan(keyed, null, null);
  }
}
