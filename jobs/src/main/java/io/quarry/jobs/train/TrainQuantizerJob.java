package io.quarry.jobs.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarry.core.config.QuantizerConfig;
import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.EmbeddingVector;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.quant.train.EncodingStats;
import io.quarry.core.quant.train.QuantizerTrainer;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.StageJob;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Stage 3, train: reads the embeddings Parquet ({@code paths.embeddings}: {@code chunk_id} string, {@code doc_id}
 * string, {@code vector} array&lt;float&gt;), trains the quantizer of {@code quantizer.spec} with {@link
 * SparkQuantizerTrainer} (MLlib k-means for IVF and residual PQ, distributed OPQ), then encodes every vector once with
 * the broadcast model ({@code mapPartitions}) to report the mean squared quantization error and the list balance.
 *
 * <p>Outputs under {@code paths.quantizer}: {@code quantizer.bin} (the {@link QuantizerModel} file format),
 * {@code quantizer.json} (its header plus encoding statistics, human-readable) and {@code summary.json}. Same input,
 * config and seed give byte-identical {@code quantizer.bin} and {@code quantizer.json}.
 *
 * <p>The dimension {@code d} is that of the first record with a vector (in file order). Records whose vector is
 * missing ({@code null_vector}), of another dimension ({@code wrong_dimension}) or holds NaN/∞ ({@code non_finite}), or
 * without a chunk id ({@code missing_chunk_id}), go to {@code <paths.quarantine>/train} (Parquet: chunk_id, doc_id,
 * reason) and are counted under {@code quarantined.<reason>}; they are not trained on.
 */
public final class TrainQuantizerJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(TrainQuantizerJob.class);
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Override
  public String name() {
    return "train";
  }

  /** One input record after validation: the vector, or the reason it was rejected. */
  record Checked(String chunkId, String docId, float[] vector, String reason) implements Serializable {}

  @Override
  public JobSummary run(JobContext ctx) throws Exception {
    QuantizerConfig cfg = ctx.config().quantizer();
    IndexSpec spec = parseSpec(cfg);
    DistanceMetric metric = DistanceMetric.parse(cfg.metric());
    String embDir = ctx.config().paths().embeddingsDir();
    if (!ctx.exists(embDir)) {
      throw new java.io.FileNotFoundException(embDir + ": embeddings not found (run the embed stage first)");
    }
    JobSummary summary = new JobSummary(name());
    long t0 = System.nanoTime();

    Dataset<Row> emb = ctx.spark().read().option("pathGlobFilter", "*.parquet").parquet(embDir).select("chunk_id", "doc_id", "vector");
    int d = detectDimension(emb, embDir);
    JavaRDD<Checked> checked = emb.javaRDD().map(r -> check(r, d)).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      quarantine(ctx, checked, summary);
      JavaPairRDD<String, float[]> vectors = checked.filter(c -> c.reason() == null)
          .mapToPair(c -> new Tuple2<>(c.chunkId(), c.vector()));
      long n = vectors.count();
      if (n == 0) {
        throw new IllegalArgumentException(embDir + ": no valid embedding to train on");
      }
      SparkQuantizerTrainer.Result result = train(ctx, cfg, spec, metric, vectors, d, n);
      return encodeAndWrite(ctx, summary, vectors, d, n, result, t0);
    } finally {
      checked.unpersist(false);
    }
  }

  /**
   * Encodes every vector once with the trained model (error, list balance), writes {@code quantizer.bin}, {@code
   * quantizer.json} and {@code summary.json}; returns the summary.
   */
  private static JobSummary encodeAndWrite(JobContext ctx, JobSummary summary, JavaPairRDD<String, float[]> vectors,
      int d, long n, SparkQuantizerTrainer.Result result, long t0) throws java.io.IOException {
    QuantizerModel model = result.model();
    long t1 = System.nanoTime();
    EncodingStats stats = encodingStats(ctx, statsSet(vectors, n, ctx.config().quantizer().seed()), model);
    long t2 = System.nanoTime();
    String outDir = ctx.config().paths().quantizerDir();
    byte[] bytes = writeModel(ctx, outDir, model, n, stats);
    summary.put("spec", model.spec().toString()).put("metric", ctx.config().quantizer().metric()).put("d", d)
        .put("vectors", n).put("sampleSize", result.sampleSize())
        .put("pqSampleSize", result.pqSampleSize()).put("codeSize", model.codeSize())
        .put("trainMse", model.info().metrics().get("pq.mse"))
        .put("quantizationMse", stats.mse()).put("imbalanceFactor", stats.imbalanceFactor())
        .put("emptyLists", stats.emptyLists()).put("statsVectors", stats.count())
        .put("trainSeconds", seconds(t1 - t0)).put("stepSeconds", result.stepSeconds())
        .put("encodeSeconds", seconds(t2 - t1))
        .put("modelBytes", bytes.length).put("output", child(outDir, "quantizer.bin"));
    ctx.writeString(child(outDir, "summary.json"), summary.toJson());
    return summary;
  }

  private static IndexSpec parseSpec(QuantizerConfig cfg) {
    try {
      return IndexSpec.parse(cfg.spec());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("quantizer.spec: " + e.getMessage(), e);
    }
  }

  /**
   * Writes the rejected records to {@code <paths.quarantine>/train} (replacing a previous run's) and counts them
   * under {@code quarantined.<reason>}.
   */
  private void quarantine(JobContext ctx, JavaRDD<Checked> checked, JobSummary summary) throws Exception {
    Map<String, Long> reasons = new TreeMap<>(checked.filter(c -> c.reason() != null).map(Checked::reason)
        .countByValue());
    String qdir = child(ctx.config().paths().quarantineDir(), "train");
    ctx.deleteIfExists(qdir); // a re-run replaces its own quarantine output
    if (reasons.isEmpty()) {
      return;
    }
    StructType schema = new StructType().add("chunk_id", DataTypes.StringType)
        .add("doc_id", DataTypes.StringType).add("reason", DataTypes.StringType);
    JavaRDD<Row> bad = checked.filter(c -> c.reason() != null)
        .map(c -> RowFactory.create(c.chunkId(), c.docId(), c.reason()));
    ctx.spark().createDataFrame(bad, schema).coalesce(1).write().mode("overwrite").parquet(qdir);
    reasons.forEach((r, n) -> summary.put("quarantined." + r, n));
    LOG.warn("train: quarantined {} records under {}: {}", reasons.values().stream().mapToLong(x -> x).sum(),
        qdir, reasons);
  }

  /** {@link SparkQuantizerTrainer} with the config's parameters and IVF options. */
  private static SparkQuantizerTrainer.Result train(JobContext ctx, QuantizerConfig cfg, IndexSpec spec,
      DistanceMetric metric, JavaPairRDD<String, float[]> vectors, int d, long n) {
    QuantizerTrainer.Params params = new QuantizerTrainer.Params(cfg.seed(), cfg.maxIter(), cfg.tol(),
        cfg.maxPointsPerCentroid(), cfg.opqIterations());
    // quantizer.ivfInit / ivfSolver from the config; MLlib's k-means|| steps and the init sample stay the defaults
    SparkQuantizerTrainer.IvfOptions ivfDefaults = SparkQuantizerTrainer.IvfOptions.defaults();
    return new SparkQuantizerTrainer(ctx.spark(), spec, metric, params)
        .withIvfOptions(new SparkQuantizerTrainer.IvfOptions(cfg.ivfInit(), ivfDefaults.initSteps(),
            cfg.ivfSolver(), ivfDefaults.initSample()))
        .withIvfTraining(cfg.ivfTraining(), 0)
        .train(vectors, d, n);
  }

  /**
   * Most vectors the train stage encodes for its statistics ({@code quantizationMse}, {@code imbalanceFactor},
   * {@code emptyLists}, quantizer.json's {@code encoding}): up to this many inputs, all of them; above, a seeded sample
   * of about this many (each vector kept with probability {@code STATS_SAMPLE / n} by its own key). The build encodes
   * every chunk anyway and reports the same statistics over all of them, so a full pass here would repeat the
   * build's work (at 4M × IVF16384, 425 s of a 1,290 s train stage).
   */
  static final long STATS_SAMPLE = 262_144;

  /** The vectors of the statistics pass ({@link #STATS_SAMPLE}): chunk id → vector, keyed by a seeded hash of the id. */
  static JavaRDD<float[]> statsSet(JavaPairRDD<String, float[]> vectors, long n, long seed) {
    if (n <= STATS_SAMPLE) {
      return vectors.values();
    }
    double keep = (double) STATS_SAMPLE / n;
    long statsSeed = io.quarry.core.quant.train.SampleKeys.mix(seed ^ 0x5354415453L); // independent of the training sample
    return vectors.filter(t -> io.quarry.core.quant.train.SampleKeys.uniform(
        io.quarry.core.quant.train.SampleKeys.key(statsSeed, t._1())) < keep).values();
  }

  /** Writes {@code quantizer.bin} and {@code quantizer.json} (header plus encoding statistics); returns the bytes. */
  private static byte[] writeModel(JobContext ctx, String outDir, QuantizerModel model, long n, EncodingStats stats)
      throws java.io.IOException {
    byte[] bytes = QuantizerFormat.toBytes(model);
    try (OutputStream out = ctx.create(child(outDir, "quantizer.bin"))) {
      out.write(bytes);
    }
    ObjectNode json = QuantizerFormat.headerJson(model);
    json.put("inputVectors", n);
    ObjectNode enc = json.putObject("encoding");
    enc.put("vectors", stats.count());
    enc.put("mse", stats.mse());
    enc.put("imbalanceFactor", stats.imbalanceFactor());
    enc.put("emptyLists", stats.emptyLists());
    long[] sizes = stats.listSizes();
    enc.put("minListSize", java.util.Arrays.stream(sizes).min().orElse(0));
    enc.put("maxListSize", java.util.Arrays.stream(sizes).max().orElse(0));
    ctx.writeString(child(outDir, "quantizer.json"), JSON.writeValueAsString(json));
    return bytes;
  }

  /**
   * Encodes every vector with the broadcast model inside {@code mapPartitions} and aggregates the error and list
   * sizes, in batches ({@link OrderedBatches#encodingStats}). The build stage encodes with the same {@link
   * QuantizerModel#encodeBatch}.
   */
  public static EncodingStats encodingStats(JobContext ctx, JavaRDD<float[]> vectors, QuantizerModel model) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    Broadcast<QuantizerModel> bm = jsc.broadcast(model);
    try {
      return OrderedBatches.encodingStats(vectors, bm);
    } finally {
      bm.destroy();
    }
  }

  static int detectDimension(Dataset<Row> emb, String embDir) {
    List<Row> first = emb.filter("vector is not null").select("vector").limit(1).collectAsList();
    if (first.isEmpty()) {
      throw new IllegalArgumentException(embDir + ": no record with a non-null 'vector' column");
    }
    int d = first.get(0).getList(0).size();
    if (d == 0) {
      throw new IllegalArgumentException(embDir + ": the first vector is empty (dimension 0)");
    }
    return d;
  }

  static Checked check(Row r, int d) {
    String chunkId = r.isNullAt(0) ? null : r.getString(0);
    String docId = r.isNullAt(1) ? null : r.getString(1);
    if (chunkId == null) {
      return new Checked(null, docId, null, "missing_chunk_id");
    }
    EmbeddingVector v = EmbeddingVector.parse(r.isNullAt(2) ? null : r.getList(2), d);
    return new Checked(chunkId, docId, v.vector(), v.reason());
  }

  static String child(String dir, String name) {
    return dir.endsWith("/") ? dir + name : dir + "/" + name;
  }

  private static double seconds(long nanos) {
    return Math.round(nanos / 1e7) / 100.0;
  }
}
