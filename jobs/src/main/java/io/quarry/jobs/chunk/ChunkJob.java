package io.quarry.jobs.chunk;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.substring;

import io.quarry.core.chunk.ReuseKey;
import io.quarry.core.config.InputConfig;
import io.quarry.core.config.QuarryConfig;
import io.quarry.core.ingest.DocumentValidator;
import io.quarry.core.ingest.ParseResult;
import io.quarry.core.ingest.QuarantineReason;
import io.quarry.embed.HfTokenizer;
import io.quarry.embed.ModelFiles;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.PreviousOutput;
import io.quarry.jobs.SerializableConf;
import io.quarry.jobs.StageJob;
import io.quarry.jobs.avro.ChunkRecord;
import io.quarry.jobs.avro.QuarantineRecord;
import io.quarry.jobs.embed.ModelShipping;
import java.io.FileNotFoundException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF3;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 1, chunk: reads the corpus ({@code input.*}), validates every record, quarantines the bad ones and cuts the
 * good documents into chunks counted in the embedding model's tokens ({@code chunking.*}).
 *
 * <p>Inputs: BEIR {@code corpus.jsonl} or generic JSONL (one task per file, read lazily line by line, with
 * {@code file:line} locations), Parquet (Spark's reader; location {@code file#row}), or a directory of
 * .txt/.md/.html files; gzip/bzip2 by suffix; any Hadoop filesystem. Outputs:
 * <ul>
 *   <li>{@code paths.chunks}: Parquet, schema {@code chunk.avsc}, partitioned by hash of {@code doc_id}, rows sorted
 *       by ({@code doc_id}, {@code ordinal}) within each file;</li>
 *   <li>{@code paths.quarantine}/chunk: Parquet, schema {@code quarantine.avsc}, one file sorted by source;</li>
 *   <li>{@code <paths.chunks>/_summary.json}: counts (records, documents, chunks, tokens, quarantined by reason)
 *       and time.</li>
 * </ul>
 * Readers of the chunk (and embedding) directories must select the Parquet files
 * ({@code spark.read().option("pathGlobFilter", "*.parquet")}): the JSON side files live beside them.
 * Duplicate document ids: the first occurrence in (file path, line) order is kept, later ones are quarantined as
 * {@code duplicate_id}. Same input and config give the same rows in the same files.
 *
 * <p>Chunk reuse ({@code chunking.reuseFrom}, {@link #reuse}): every row carries its document's {@code doc_key};
 * the rows of documents whose key is in the previous chunks dataset are copied from it and only the other documents
 * are tokenized. The rows are the same as without reuse (the file boundaries may differ).
 *
 * @throws FileNotFoundException (from {@link #run}) naming {@code input.corpus} if it is missing or empty
 */
public final class ChunkJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(ChunkJob.class);

  /** Spark schema of the chunk dataset, derived from {@code chunk.avsc}. */
  public static final StructType CHUNK_SCHEMA = SparkAvro.structOf(ChunkRecord.getClassSchema());
  /** Spark schema of quarantine datasets, derived from {@code quarantine.avsc}. */
  public static final StructType QUARANTINE_SCHEMA = SparkAvro.structOf(QuarantineRecord.getClassSchema());

  @Override
  public String name() {
    return "chunk";
  }

  /** Where a stage writes its summary: {@code <dir>/_summary.json} (underscore: Spark ignores it when reading the dataset). */
  public static String summaryPath(String dir) {
    return (dir.endsWith("/") ? dir : dir + "/") + "_summary.json";
  }

  @Override
  /**
   * Runs the steps: load the model's tokenizer, read and validate the records, quarantine the bad ones, chunk the
   * valid documents (reusing unchanged ones), quarantine valid documents without any token, write the summary.
   */
  public JobSummary run(JobContext ctx) throws Exception {
    QuarryConfig cfg = ctx.config();
    InputConfig in = cfg.input();
    long t0 = System.nanoTime();
    JobSummary summary = new JobSummary(name()).put("input", in.corpus()).put("format", in.format())
        .put("method", cfg.chunking().method()).put("maxTokens", cfg.chunking().maxTokens())
        .put("overlapTokens", cfg.chunking().overlapTokens()).put("tokenizer", cfg.embedding().model());
    // the model's tokenizer: fail fast on an unknown/unreadable model, before any Spark work; a custom model on a
    // Hadoop path is shipped once to the executors
    io.quarry.core.config.EmbeddingConfig tokCfg = ModelShipping.ship(ctx, cfg.embedding());
    HfTokenizer.forModel(ModelShipping.local(tokCfg));
    ReuseKey docKeyer = ReuseKey.forDocuments(
        ModelFiles.sha256(ModelFiles.loadTokenizerJson(ModelShipping.local(tokCfg))), cfg.chunking());
    String out = cfg.paths().chunksDir();
    PreviousOutput previous = resolveReuse(ctx); // fails fast on a missing path

    Dataset<Row> records = read(ctx, in).persist(StorageLevel.MEMORY_AND_DISK());
    Validated v = null;
    try {
      long nRecords = records.count();
      summary.put("records", nRecords);
      LOG.info("chunk: read {} records from {}", nRecords, in.corpus());
      v = validate(records, docKeyer);
      Quarantined bad = quarantine(ctx, v.bad(), nRecords, summary);
      long nDocs = nRecords - bad.count();
      if (nDocs == 0) {
        throw new IllegalArgumentException("input.corpus: " + in.corpus() + ": no valid document (" + bad.count()
            + " quarantined under " + bad.dir() + ": " + bad.reasons() + ")");
      }
      chunk(ctx, previous, v.docs(), tokCfg, nDocs, out, summary);
      Row st = ctx.spark().read().option("pathGlobFilter", "*.parquet").parquet(out).selectExpr("count(*)",
          "coalesce(sum(n_tokens), 0)", "coalesce(max(n_tokens), 0)", "count(distinct doc_id)").first();
      quarantineTokenless(ctx, v.good(), nDocs - st.getLong(3), out, bad, summary);
      double secs = (System.nanoTime() - t0) / 1e9;
      summary.put("documents", st.getLong(3)).put("chunks", st.getLong(0)).put("tokens", st.getLong(1))
          .put("maxChunkTokens", st.getInt(2)).put("output", out).put("seconds", Math.round(secs * 100) / 100.0)
          .put("documentsPerSecond", Math.round(st.getLong(3) / secs * 10) / 10.0);
      ctx.writeString(summaryPath(out), summary.toJson());
      return summary;
    } finally {
      records.unpersist();
      if (v != null) {
        v.docs().unpersist();
      }
    }
  }

  /**
   * The records split by validity: {@code good} (valid records, {@code rn} = their rank among records of the same
   * id in (file, line) order), {@code docs} (the first of each id, with its reuse key; cached) and {@code bad}
   * (invalid records and later duplicates, as quarantine rows).
   */
  private record Validated(Dataset<Row> good, Dataset<Row> docs, Dataset<Row> bad) {}

  private static Validated validate(Dataset<Row> records, ReuseKey docKeyer) {
    WindowSpec byId = Window.partitionBy("doc_id").orderBy("file", "line");
    Dataset<Row> good = records.filter(col("ok"))
        .withColumn("rn", row_number().over(byId))
        .withColumn("first_source", first("source").over(byId));
    UserDefinedFunction keyOf = functions.udf((UDF3<String, String, String, String>) docKeyer::documentKey,
        DataTypes.StringType).asNonNullable();
    // cached: read by the reuse joins, their count and the chunking (the window would be recomputed for each)
    Dataset<Row> docs = good.filter(col("rn").equalTo(1)).select("doc_id", "title", "text")
        .withColumn("doc_key", keyOf.apply(col("doc_id"), col("title"), col("text")))
        .persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> dups = good.filter(col("rn").gt(1)).select(lit("duplicate_id").as("reason"), col("source"),
        col("doc_id"), concat(lit("duplicate of the record at "), col("first_source")).as("detail"),
        // the duplicate's own record (its raw line; the start of its text for inputs without raw lines)
        coalesce(col("raw"), substring(col("text"), 1, ParseResult.Quarantined.MAX_RAW_CHARS)).as("raw"));
    Dataset<Row> bad = records.filter(not(col("ok"))).select("reason", "source", "doc_id", "detail", "raw")
        .unionByName(dups);
    return new Validated(good, docs, bad);
  }

  /** The quarantine of this run: its directory, counts by reason (mutable: later steps add theirs) and total. */
  private record Quarantined(String dir, Map<String, Long> reasons, long count) {}

  /** Writes the bad records to {@code <paths.quarantine>/chunk} (replacing an earlier run's) and counts them. */
  private Quarantined quarantine(JobContext ctx, Dataset<Row> bad, long nRecords, JobSummary summary)
      throws java.io.IOException {
    Map<String, Long> reasons = new TreeMap<>();
    for (Row r : bad.groupBy("reason").count().collectAsList()) {
      reasons.put(r.getString(0), r.getLong(1));
    }
    long nBad = reasons.values().stream().mapToLong(Long::longValue).sum();
    String qdir = child(ctx.config().paths().quarantineDir(), name());
    ctx.deleteIfExists(qdir);
    if (nBad > 0) {
      ctx.spark().createDataFrame(bad.orderBy("source").javaRDD(), QUARANTINE_SCHEMA)
          .coalesce(1).write().mode("overwrite").parquet(qdir);
      LOG.warn("chunk: quarantined {} of {} records under {}: {}", nBad, nRecords, qdir, reasons);
    }
    summary.put("quarantined", nBad).put("quarantineDir", qdir);
    reasons.forEach((r, n) -> summary.put("quarantined." + r, n));
    return new Quarantined(qdir, reasons, nBad);
  }

  /**
   * Chunks the documents that cannot be reused and writes them with the reused chunks to {@code out} (staged, then
   * swapped in): hash-partitioned by {@code doc_id}, sorted by ({@code doc_id}, {@code ordinal}) within files.
   */
  private static void chunk(JobContext ctx, PreviousOutput previous, Dataset<Row> docs,
      io.quarry.core.config.EmbeddingConfig tokCfg, long nDocs, String out, JobSummary summary) throws Exception {
    Reuse reuse = reuse(ctx, previous, docs, summary);
    long toChunk = reuse.reused() == null ? nDocs : reuse.toChunk().count();
    summary.put("documentsReused", nDocs - toChunk).put("documentsChunked", toChunk);
    try (Progress progress = new Progress(ctx.spark().sparkContext(), LOG, "chunk", "documents", toChunk,
        "chunks", 10)) {
      JavaRDD<Row> rows = reuse.toChunk().repartition(col("doc_id")).javaRDD()
          .mapPartitions(new ChunkPartition(ctx.config().chunking(), tokCfg, progress.done(),
              progress.secondary()));
      Dataset<Row> chunks = ctx.spark().createDataFrame(rows, CHUNK_SCHEMA);
      if (reuse.reused() != null) { // the same layout as without reuse: hash of doc_id, sorted within files
        chunks = chunks.unionByName(reuse.reused()).repartition(col("doc_id"));
      }
      chunks.sortWithinPartitions("doc_id", "ordinal").write().mode("overwrite").parquet(previous.writeDir(out));
    }
    previous.swap(ctx, out);
  }

  /**
   * Valid documents the tokenizer turned into no token at all ({@code noTokens} of them): quarantined with their id
   * and location, not dropped, so that records = documents + quarantined.
   */
  private static void quarantineTokenless(JobContext ctx, Dataset<Row> good, long noTokens, String out,
      Quarantined bad, JobSummary summary) {
    if (noTokens > 0) {
      Dataset<Row> chunked = ctx.spark().read().option("pathGlobFilter", "*.parquet").parquet(out)
          .select("doc_id").distinct();
      Dataset<Row> lost = good.filter(col("rn").equalTo(1)).join(chunked,
              good.col("doc_id").equalTo(chunked.col("doc_id")), "left_anti")
          .select(lit(QuarantineReason.NO_TOKENS.code()).as("reason"), col("source"), col("doc_id"),
              lit("the embedding model's tokenizer produced no token (e.g. only combining marks): no chunk")
                  .as("detail"),
              coalesce(col("raw"), substring(col("text"), 1, ParseResult.Quarantined.MAX_RAW_CHARS)).as("raw"));
      ctx.spark().createDataFrame(lost.orderBy("source").javaRDD(), QUARANTINE_SCHEMA)
          .coalesce(1).write().mode("append").parquet(bad.dir());
      bad.reasons().merge(QuarantineReason.NO_TOKENS.code(), noTokens, Long::sum);
      summary.put("quarantined", bad.count() + noTokens)
          .put("quarantined." + QuarantineReason.NO_TOKENS.code(), noTokens);
      LOG.warn("chunk: quarantined {} valid documents without any token under {}", noTokens, bad.dir());
    }
    summary.put("documentsWithoutTokens", noTokens);
  }


  /** A missing {@code chunking.reuseFrom} path fails before any stage of the run. */
  @Override
  public void preflight(JobContext ctx) throws Exception {
    resolveReuse(ctx);
  }

  private static PreviousOutput resolveReuse(JobContext ctx) throws java.io.IOException {
    QuarryConfig cfg = ctx.config();
    return PreviousOutput.resolve(ctx, "chunking.reuseFrom", cfg.chunking().reuseFrom(), cfg.paths().chunksDir(),
        "a previous chunks directory");
  }

  /**
   * The split of the documents into those to chunk and the reused chunk rows.
   *
   * @param toChunk document rows {@code (doc_id, title, text, doc_key)} whose key has no rows in the previous chunks
   * @param reused previous chunk rows ({@link #CHUNK_SCHEMA}) of the documents whose key has, or null when nothing
   *     can be reused
   */
  record Reuse(Dataset<Row> toChunk, Dataset<Row> reused) {}

  /**
   * Chunk reuse ({@code chunking.reuseFrom}): the chunk rows of every document whose key ({@link
   * ReuseKey#forDocuments}: tokenizer, chunking parameters, id, title, text) has rows in the previous chunks dataset
   * are copied from it (a left semi join on {@code doc_key}); only the other documents are chunked. The previous
   * dataset is not used (the reason is in {@code _summary.json} as {@code reuse}) when its rows have no
   * {@code doc_key} column (written before chunk reuse). Records {@code reuse} and {@code reuseFrom}.
   */
  static Reuse reuse(JobContext ctx, PreviousOutput previous, Dataset<Row> docs, JobSummary summary) {
    summary.put("reuseFrom", previous.dir() == null ? "" : previous.dir());
    if (previous.dir() == null) {
      summary.put("reuse", "none: " + previous.note());
      return new Reuse(docs, null);
    }
    Dataset<Row> prev = ctx.spark().read().option("pathGlobFilter", "*.parquet").parquet(previous.dir());
    if (!List.of(prev.columns()).contains("doc_key")) {
      summary.put("reuse", "none: " + previous.dir() + " has no doc_key column (written before chunk reuse)");
      LOG.info("chunk: no chunk reuse, every document is chunked ({})", summary.get("reuse"));
      return new Reuse(docs, null);
    }
    Dataset<Row> prevKeys = prev.where(col("doc_key").isNotNull()).select(col("doc_key").as("p_key")).distinct();
    Dataset<Row> toChunk = docs.join(prevKeys, docs.col("doc_key").equalTo(prevKeys.col("p_key")), "left_anti");
    Dataset<Row> current = docs.select(col("doc_key").as("c_key"));
    Dataset<Row> semi = prev.join(current, prev.col("doc_key").equalTo(current.col("c_key")), "left_semi")
        .select(java.util.Arrays.stream(CHUNK_SCHEMA.fieldNames()).map(functions::col)
            .toArray(org.apache.spark.sql.Column[]::new));
    // with the chunk schema's nullability (Parquet reads every column as nullable), as the chunked rows
    Dataset<Row> reused = ctx.spark().createDataFrame(semi.javaRDD(), CHUNK_SCHEMA);
    summary.put("reuse", "used");
    LOG.info("chunk: reusing the chunks of unchanged documents from {}", previous.dir());
    return new Reuse(toChunk, reused);
  }

  /** All input records as {@link IngestRows}. */
  static Dataset<Row> read(JobContext ctx, InputConfig in) throws Exception {
    if ("parquet".equals(in.format())) {
      return readParquet(ctx, in);
    }
    List<String> files = InputFiles.list(in.corpus(), in.format(), ctx.hadoopConf());
    LOG.info("chunk: {} input file(s) under {}", files.size(), in.corpus());
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    JavaRDD<Row> rows = jsc.parallelize(IntStream.range(0, files.size()).boxed().toList(), files.size())
        .flatMap(new ReadInputFile(files, in, new SerializableConf(ctx.hadoopConf())));
    return ctx.spark().createDataFrame(rows, IngestRows.SCHEMA);
  }

  private static Dataset<Row> readParquet(JobContext ctx, InputConfig in) throws Exception {
    if (!ctx.exists(in.corpus())) {
      throw new FileNotFoundException("input.corpus: " + in.corpus() + " does not exist");
    }
    Dataset<Row> df = ctx.spark().read().parquet(in.corpus());
    List<String> cols = List.of(df.columns());
    for (String f : new String[] {in.idField(), in.textField()}) {
      if (!cols.contains(f)) {
        throw new IllegalArgumentException("input.corpus: " + in.corpus() + " has no column '" + f + "' (columns: "
            + cols + "); set input.idField / input.textField");
      }
    }
    boolean hasTitle = in.titleField() != null && cols.contains(in.titleField());
    Dataset<Row> sel = df.select(col("_metadata.file_path").as("file"), col("_metadata.row_index").as("row"),
        col(in.idField()).cast(DataTypes.StringType).as("id"),
        hasTitle ? col(in.titleField()).cast(DataTypes.StringType).as("title")
            : lit(null).cast(DataTypes.StringType).as("title"),
        col(in.textField()).cast(DataTypes.StringType).as("text"));
    long maxChars = in.maxDocChars();
    JavaRDD<Row> rows = sel.javaRDD().map(r -> {
      String file = r.getString(0);
      long row = r.getLong(1);
      DocumentValidator v = new DocumentValidator(maxChars);
      return IngestRows.of(v.validate(r.getString(2), r.getString(3), r.getString(4), file + "#" + row,
          null), file, row);
    });
    return ctx.spark().createDataFrame(rows, IngestRows.SCHEMA);
  }

  static String child(String dir, String name) {
    return (dir.endsWith("/") ? dir : dir + "/") + name;
  }
}
