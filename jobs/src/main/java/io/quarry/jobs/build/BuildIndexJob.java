package io.quarry.jobs.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.config.SegmentsConfig;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.quant.train.EncodingStats;
import io.quarry.core.segment.Checksums;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.ShardEntry;
import io.quarry.core.segment.Sharding;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.SerializableConf;
import io.quarry.jobs.StageJob;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.HashPartitioner;
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
 * Stage 4, build: joins embeddings with chunks, encodes every vector with the broadcast quantizer inside
 * {@code mapPartitions} (OPQ rotation, IVF assignment, residual PQ code), assigns shards ({@code hash} of doc id, or
 * {@code ivf} contiguous list ranges), writes each shard in one task with the lib writers (dense part:
 * {@code lists.ivf}, {@code chunks.tbl}, {@code vectors.bin}; lexical part: Lucene {@code bm25/}), copies the
 * quantizer, writes {@code manifest.json} last, validates the version the way readers open it and only then points
 * {@code CURRENT} at it (docs/segment-format.md).
 *
 * <p>Malformed records (a chunk without an embedding, an embedding without a chunk, wrong dimension, non-finite
 * values, missing fields) go to {@code <paths.quarantine>/build/} (Parquet: chunk_id, doc_id, reason) and are
 * counted under {@code quarantined.<reason>}.
 */
public final class BuildIndexJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(BuildIndexJob.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String name() {
    return "build";
  }

  /**
   * An encoded chunk, or the reason it was rejected; {@code squaredError} is its quantization error
   * ({@link QuantizerModel.Encoded#squaredError}, 0 for rejected rows).
   */
  record Encoded(ShardEntry entry, String chunkId, String docId, String reason, float squaredError)
      implements Serializable {}

  /** The quantizer a build encodes with: the train stage's, or (incremental) the base version's, frozen. */
  record Quantizer(byte[] bytes, QuantizerModel model, String sha256) {
    static Quantizer of(byte[] bytes, String name) throws IOException {
      return new Quantizer(bytes, QuantizerFormat.fromBytes(bytes, name), Checksums.sha256(bytes));
    }
  }

  /**
   * An incremental build's base must exist before any stage runs: {@code segments.base}, or a {@code CURRENT} to
   * take it from.
   *
   * @throws IllegalArgumentException naming {@code segments.base}
   */
  @Override
  public void preflight(JobContext ctx) throws Exception {
    SegmentsConfig cfg = ctx.config().segments();
    if (!cfg.incremental()) {
      return;
    }
    String indexDir = ctx.config().paths().indexDir();
    String base = cfg.base();
    if (base.isEmpty()) {
      String current = PublishedIndex.child(indexDir, IndexManifest.CURRENT);
      if (!ctx.exists(current)) {
        throw new IllegalArgumentException("segments.base: empty and no " + current + " to refresh (build a full "
            + "version first, or name the base)");
      }
      base = PublishedIndex.current(ctx);
    }
    if (!ctx.exists(PublishedIndex.child(PublishedIndex.child(indexDir, base), IndexManifest.FILE_NAME))) {
      throw new IllegalArgumentException("segments.base: no complete version '" + base + "' under " + indexDir);
    }
  }

  @Override
  public JobSummary run(JobContext ctx) throws Exception {
    SegmentsConfig cfg = ctx.config().segments();
    JobSummary summary = new JobSummary(name());
    if (cfg.incremental()) {
      return new IncrementalBuild(ctx).run(summary);
    }
    String quantFile = PublishedIndex.child(ctx.config().paths().quantizerDir(), "quantizer.bin");
    byte[] quantBytes;
    try (InputStream in = ctx.open(quantFile)) {
      quantBytes = in.readAllBytes();
    } catch (java.io.FileNotFoundException e) {
      throw new IOException(quantFile + ": quantizer not found (run the train stage first)");
    }
    Quantizer q = Quantizer.of(quantBytes, quantFile);
    IndexManifest.Model embModel = readModel(ctx, ctx.config().paths().embeddingsDir(), q.model().dim());
    JobSummary retried = reuseSameBuild(ctx, cfg, q.sha256(), embModel, summary);
    if (retried != null) {
      return retried;
    }
    return writeFull(ctx, q, embModel, summary, null, "");
  }

  /**
   * Joins chunks with embeddings (only the chunks of {@code docs} and those without a document id when {@code docs}
   * is not null), validates and encodes every row
   * with the quantizer inside {@code mapPartitions}; the result is persisted (the caller unpersists it). Rejected rows
   * are written to {@code <paths.quarantine>/build} and counted in {@code summary}.
   */
  static JavaRDD<Encoded> encodeInputs(JobContext ctx, Quantizer q, Broadcast<java.util.Set<String>> docs,
      JobSummary summary) {
    String chunksDir = ctx.config().paths().chunksDir();
    String embDir = ctx.config().paths().embeddingsDir();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    Broadcast<byte[]> bq = jsc.broadcast(q.bytes());
    Dataset<Row> emb = ctx.spark().read().option("pathGlobFilter", "*.parquet").parquet(embDir)
        .selectExpr("chunk_id as e_chunk_id", "doc_id as e_doc_id", "vector");
    Dataset<Row> chunks = ctx.spark().read().option("pathGlobFilter", "*.parquet").parquet(chunksDir)
        .select("chunk_id", "doc_id", "ordinal", "title", "text", "start_char", "end_char");
    if (docs != null) {
      // rows without a document id belong to no document: they pass so that PartitionEncoder quarantines them
      chunks = chunks.filter((org.apache.spark.api.java.function.FilterFunction<Row>) r ->
          r.getAs("doc_id") == null || docs.value().contains((String) r.getAs("doc_id")));
      emb = emb.filter((org.apache.spark.api.java.function.FilterFunction<Row>) r ->
          r.getAs("e_doc_id") == null || docs.value().contains((String) r.getAs("e_doc_id")));
    }
    Dataset<Row> joined = chunks.join(emb, chunks.col("chunk_id").equalTo(emb.col("e_chunk_id")), "full_outer");
    int dim = q.model().dim();
    JavaRDD<Encoded> encoded = joined.javaRDD().mapPartitions(rows -> PartitionEncoder.encode(rows, bq.value(), dim))
        .persist(StorageLevel.MEMORY_AND_DISK());
    JavaRDD<Encoded> bad = encoded.filter(e -> e.reason() != null);
    Map<String, Long> reasons = new java.util.TreeMap<>(bad.map(Encoded::reason).countByValue());
    if (!reasons.isEmpty()) {
      StructType schema = new StructType()
          .add("chunk_id", DataTypes.StringType).add("doc_id", DataTypes.StringType)
          .add("reason", DataTypes.StringType);
      JavaRDD<Row> qrows = bad.map(e -> RowFactory.create(e.chunkId(), e.docId(), e.reason()));
      String qdir = PublishedIndex.child(ctx.config().paths().quarantineDir(), "build");
      ctx.spark().createDataFrame(qrows, schema).coalesce(1).write().mode("overwrite").parquet(qdir);
      reasons.forEach((r, n) -> summary.put("quarantined." + r, n));
      LOG.warn("build: quarantined {} records under {}: {}", reasons.values().stream().mapToLong(x -> x).sum(),
          qdir, reasons);
    }
    return encoded;
  }

  /**
   * Writes a version holding every valid chunk of the inputs, encoded with {@code q}: the full build, and the
   * compaction of an incremental build ({@code refresh} not null: the base's frozen quantizer).
   *
   * @param versionSalt mixed into the automatic version id (empty for a full build)
   */
  static JobSummary writeFull(JobContext ctx, Quantizer q, IndexManifest.Model embModel, JobSummary summary,
      IndexManifest.Refresh refresh, String versionSalt) throws Exception {
    SegmentsConfig cfg = ctx.config().segments();
    QuantizerModel model = q.model();
    JavaRDD<Encoded> encoded = encodeInputs(ctx, q, null, summary);
    try {
      JavaRDD<ShardEntry> good = encoded.filter(e -> e.reason() == null).map(Encoded::entry);
      long total = good.count();
      if (total == 0) {
        throw new IllegalStateException("build: no valid chunk with an embedding (inputs "
            + ctx.config().paths().chunksDir() + ", " + ctx.config().paths().embeddingsDir() + ")");
      }
      long docs = good.map(ShardEntry::docId).distinct().count();
      EncodingStats enc = encodingStats(encoded, model.nlist());
      summary.put("quantizationMse", enc.mse()).put("imbalanceFactor", enc.imbalanceFactor())
          .put("emptyLists", enc.emptyLists());
      int shards = cfg.targetShardChunks() > 0
          ? (int) Math.max(1, (total + cfg.targetShardChunks() - 1) / cfg.targetShardChunks())
          : cfg.shards();
      warnOnLargeShards(total, shards, model.dim(), cfg.rescore());

      int[] bounds;
      JavaPairRDD<Integer, ShardEntry> keyed;
      if ("ivf".equals(cfg.sharding())) {
        if (shards > model.nlist()) {
          throw new IllegalArgumentException("segments: ivf sharding needs shards <= nlist (" + model.nlist()
              + "), got " + shards);
        }
        long[] sizes = new long[model.nlist()];
        good.map(ShardEntry::list).countByValue().forEach((l, c) -> sizes[l] = c);
        bounds = Sharding.ivfBounds(sizes, shards);
        int[] b = bounds;
        keyed = good.mapToPair(e -> new Tuple2<>(Sharding.ivfShard(b, e.list()), e));
      } else {
        bounds = null;
        int s = shards;
        keyed = good.mapToPair(e -> new Tuple2<>(Sharding.hashShard(e.docId(), s), e));
      }

      String version = chooseVersion(ctx, cfg, q.sha256() + versionSalt, embModel);
      String versionDir = PublishedIndex.child(ctx.config().paths().indexDir(), version);
      List<ShardTask.Result> results = writeShards(ctx, versionDir, q, keyed, shards, 0);
      List<IndexManifest.Shard> shardEntries = new ArrayList<>();
      for (ShardTask.Result r : results) {
        int from = bounds == null ? 0 : bounds[r.shard()];
        int to = bounds == null ? model.nlist() : bounds[r.shard() + 1];
        shardEntries.add(new IndexManifest.Shard(r.shard(), IndexManifest.shardDir(r.shard()), r.chunks(), r.docs(),
            from, to, r.files()));
      }
      IndexManifest.Refresh r = refresh == null ? null
          : refresh.as(refresh.path(), refresh.reasons(), 0, shards, 0, 0);
      return finish(ctx, q, embModel, version, shardEntries, total, docs, r, summary);
    } finally {
      encoded.unpersist(false);
    }
  }

  /** Chunks per shard above which the build warns: a shard is written by one task holding all its chunks. */
  static final long LARGE_SHARD_CHUNKS = 1_000_000;

  /**
   * Warns when a shard would hold more than {@link #LARGE_SHARD_CHUNKS} chunks: its task keeps every chunk (text,
   * code and vector) in memory and, with re-scoring vectors, one more contiguous copy of the vectors ({@code d × 4}
   * bytes each for float32) while it writes. At 4M chunks in 2 shards (the quick-start config's count) this ran a
   * local[2] build with an 18 GiB heap out of memory; {@code segments.targetShardChunks} bounds the shards instead.
   */
  static void warnOnLargeShards(long total, int shards, int dim, String rescore) {
    long perShard = (total + shards - 1) / shards;
    if (perShard > LARGE_SHARD_CHUNKS) {
      long vectorBytes = "none".equals(rescore) ? dim * 4L : dim * 8L;
      LOG.warn("build: {} chunks per shard ({} shards): each shard is written by one task holding its chunks in "
          + "memory, ≈ {} MiB of vectors alone; set segments.targetShardChunks (e.g. 500000) for more, smaller shards",
          perShard, shards, perShard * vectorBytes >> 20);
    }
  }

  /**
   * The encoding statistics of every valid chunk (squared error, list sizes), from the encoded rows without another
   * encoding pass; partial sums merged in partition order.
   */
  static EncodingStats encodingStats(JavaRDD<Encoded> encoded, int nlist) {
    List<EncodingStats> parts = encoded.mapPartitions(it -> {
      EncodingStats s = new EncodingStats(nlist);
      while (it.hasNext()) {
        Encoded e = it.next();
        if (e.reason() == null) {
          s.add(e.entry().list(), e.squaredError());
        }
      }
      return List.of(s).iterator();
    }).collect();
    EncodingStats all = new EncodingStats(nlist);
    parts.forEach(all::merge);
    return all;
  }

  /** Writes {@code shards} shards (ids {@code firstShard …}) of {@code keyed} (key = 0-based partition). */
  static List<ShardTask.Result> writeShards(JobContext ctx, String versionDir, Quantizer q,
      JavaPairRDD<Integer, ShardEntry> keyed, int shards, int firstShard) {
    SegmentsConfig cfg = ctx.config().segments();
    QuantizerModel model = q.model();
    ShardTask task = new ShardTask(versionDir, new SerializableConf(ctx.hadoopConf()), model.nlist(),
        model.codeSize(), model.dim(), cfg.rescore(), cfg.bm25K1(), cfg.bm25B(), firstShard);
    List<ShardTask.Result> results = new ArrayList<>(keyed.partitionBy(new HashPartitioner(shards))
        .mapPartitionsWithIndex((idx, it) -> task.run(idx, it), true).collect());
    results.sort(java.util.Comparator.comparingInt(ShardTask.Result::shard));
    if (results.size() != shards) {
      throw new IllegalStateException("expected " + shards + " shard results, got " + results.size());
    }
    return results;
  }

  /**
   * Copies the quantizer into the version (a version is self-contained), writes {@code manifest.json} last
   * ({@code formatVersion} 2 when a shard has tombstones), validates the version the way readers open it, publishes
   * it with {@code segments.publish}, and writes the summary.
   */
  static JobSummary finish(JobContext ctx, Quantizer q, IndexManifest.Model embModel, String version,
      List<IndexManifest.Shard> shardEntries, long total, long docs, IndexManifest.Refresh refresh,
      JobSummary summary) throws IOException {
    SegmentsConfig cfg = ctx.config().segments();
    QuantizerModel model = q.model();
    String versionDir = PublishedIndex.child(ctx.config().paths().indexDir(), version);
    ctx.fs(versionDir).mkdirs(new org.apache.hadoop.fs.Path(versionDir));
    try (var out = ctx.create(PublishedIndex.child(versionDir, "quantizer.bin"))) {
      out.write(q.bytes());
    }
    Map<String, Object> perShard = new LinkedHashMap<>();
    long bytes = q.bytes().length;
    boolean tombstones = false;
    for (IndexManifest.Shard sh : shardEntries) {
      perShard.put(sh.dir(), sh.chunks());
      tombstones |= !sh.tombstones().isEmpty();
      for (IndexManifest.FileEntry f : sh.files()) {
        bytes += f.bytes();
      }
    }
    JsonNode config = JSON.readTree(ctx.configJson());
    IndexManifest manifest = new IndexManifest(
        tombstones ? IndexManifest.INCREMENTAL_FORMAT_VERSION : IndexManifest.FORMAT_VERSION, version,
        model.spec().toString(), model.metric().name().toLowerCase(Locale.ROOT), model.dim(), model.nlist(),
        model.codeSize(), cfg.sharding(), cfg.rescore(), embModel,
        new IndexManifest.Bm25(cfg.bm25K1(), cfg.bm25B(), "lucene-english-porter"),
        new IndexManifest.FileEntry("quantizer.bin", q.bytes().length, q.sha256()), shardEntries, total, docs,
        ctx.configHash(), config, "quarry " + implVersion(), null, refresh);
    manifest = DenseFieldsBuild.attach(ctx, versionDir, manifest); // embedding.extraModels: one field per model
    byte[] mbytes = manifest.toJson();
    try (var out = ctx.create(PublishedIndex.child(versionDir, IndexManifest.FILE_NAME))) {
      out.write(mbytes); // last: the version exists for readers from here on
    }

    Path local = PublishedIndex.localCopy(ctx, version);
    PublishedIndex.validate(local);
    if (cfg.publish()) {
      PublishedIndex.publish(ctx, version);
    }
    summary.put("version", version).put("versionDir", versionDir).put("published", cfg.publish())
        .put("chunks", total).put("docs", docs).put("shards", shardEntries.size()).put("sharding", cfg.sharding())
        .put("chunksPerShard", perShard).put("indexBytes", bytes + mbytes.length)
        .put("codeBytesPerVector", model.codeSize()).put("rescore", cfg.rescore());
    ctx.writeString(PublishedIndex.child(versionDir, "summary.json"), summary.toJson());
    return summary;
  }

  static String implVersion() {
    String v = BuildIndexJob.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** Reads the embeddings' model descriptor ({@link EmbeddingModelFile#read}). */
  static IndexManifest.Model readModel(JobContext ctx, String embDir, int quantDim) throws IOException {
    return EmbeddingModelFile.read(ctx, embDir, quantDim);
  }

  /**
   * A retried build (an Airflow task retry, say) of an explicit {@code segments.version} whose complete version was
   * already written from the same resolved config, quantizer and embedding model: that version is validated the way
   * readers open it and, with {@code segments.publish}, published, instead of failing because it exists. Returns
   * null when there is nothing to reuse; a version of that name built from anything else stays an error in
   * {@link #chooseVersion}.
   */
  static JobSummary reuseSameBuild(JobContext ctx, SegmentsConfig cfg, String quantSha, IndexManifest.Model model,
      JobSummary summary) throws IOException {
    if (cfg.version().isEmpty()) {
      return null;
    }
    String manifestPath = PublishedIndex.child(PublishedIndex.child(ctx.config().paths().indexDir(), cfg.version()),
        IndexManifest.FILE_NAME);
    if (!ctx.exists(manifestPath)) {
      return null;
    }
    IndexManifest m = IndexManifest.parse(ctx.readString(manifestPath), manifestPath);
    if (!ctx.configHash().equals(m.configHash()) || !quantSha.equals(m.quantizer().sha256())
        || !model.sha256().equals(m.model().sha256())) {
      return null;
    }
    PublishedIndex.validate(PublishedIndex.localCopy(ctx, cfg.version()));
    if (cfg.publish()) {
      PublishedIndex.publish(ctx, cfg.version());
    }
    LOG.info("build: version {} already built from the same config, quantizer and model: validated and reused",
        cfg.version());
    return summary.put("version", cfg.version())
        .put("versionDir", PublishedIndex.child(ctx.config().paths().indexDir(), cfg.version()))
        .put("published", cfg.publish()).put("reused", true).put("chunks", m.chunks()).put("docs", m.docs())
        .put("shards", m.shards().size()).put("sharding", m.sharding());
  }

  /**
   * The version id: {@code segments.version} if set (an existing complete version of that name built from anything
   * else than this config, quantizer and model is an error; see {@link #reuseSameBuild}), else
   * {@code v-<first 12 hex of SHA-256(configHash, quantizer sha, model sha)>}, with {@code -r2}, {@code -r3}, ...
   * appended while a complete version of that name exists. An incomplete directory of the chosen name (no manifest:
   * a failed build) is deleted.
   */
  static String chooseVersion(JobContext ctx, SegmentsConfig cfg, String quantSha, IndexManifest.Model model)
      throws IOException {
    String indexDir = ctx.config().paths().indexDir();
    String base;
    if (!cfg.version().isEmpty()) {
      base = cfg.version();
      if (ctx.exists(PublishedIndex.child(PublishedIndex.child(indexDir, base), IndexManifest.FILE_NAME))) {
        throw new IllegalArgumentException("segments.version: version '" + base + "' already exists under "
            + indexDir + "; published versions are immutable, choose another id");
      }
    } else {
      String h = Checksums.sha256((ctx.configHash() + "\n" + quantSha + "\n" + model.sha256())
          .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      base = "v-" + h.substring(0, 12);
      String id = base;
      for (int r = 2; ctx.exists(PublishedIndex.child(PublishedIndex.child(indexDir, id),
          IndexManifest.FILE_NAME)); r++) {
        id = base + "-r" + r;
      }
      base = id;
    }
    ctx.deleteIfExists(PublishedIndex.child(indexDir, base));
    return base;
  }
}
