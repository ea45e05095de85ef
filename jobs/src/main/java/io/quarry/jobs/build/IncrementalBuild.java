package io.quarry.jobs.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.config.SegmentsConfig;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.train.EncodingStats;
import io.quarry.core.segment.Checksums;
import io.quarry.core.segment.CorruptIndexFileException;
import io.quarry.core.segment.DocumentDigests;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.RefreshDecision;
import io.quarry.core.segment.ShardEntry;
import io.quarry.core.segment.Sharding;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.SerializableConf;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The incremental build (issue 15, {@code segments.incremental}): a new version from a base version whose quantizer
 * is frozen (its {@code quantizer.bin} is copied, nothing is trained).
 *
 * <ol>
 *   <li>Change detection, in Spark: the digest of every document of the new chunks
 *       ({@link DocumentDigests#digest}) is joined with the base's live documents (its shards' {@code docs.tsv}
 *       minus their tombstones): unchanged, added, changed, deleted. Only the ids of the non-unchanged documents
 *       reach the driver.</li>
 *   <li>Only the added and changed documents' chunks are joined with their embeddings and encoded; the squared
 *       quantization errors and list sizes of those vectors give the drift measures.</li>
 *   <li>{@link RefreshDecision}: drift over the thresholds → {@link RetrainRequiredException} (nothing written);
 *       tombstones over {@code segments.compactTombstoneShare} (or {@code segments.compact}) → every shard rewritten
 *       from the current inputs with the frozen quantizer ({@link BuildIndexJob#writeFull}); otherwise the base's
 *       shards are copied byte for byte into the new version, with the changed and deleted documents added to their
 *       tombstones ({@code deletedDocs}), and the added and changed documents written into new delta shards.</li>
 * </ol>
 *
 * <p>Files are copied, not referenced: a version stays self-contained (its manifest lists only files inside its
 * directory, every one checked against its SHA-256 by the build's validation and by the serving jar), so any older
 * version, the base included, can be deleted, and the serving jar's per-version download and cache work unchanged.
 * Copying costs bytes and I/O but no CPU-heavy work (no embedding, no encoding, no Lucene indexing).
 */
final class IncrementalBuild {
  private static final Logger LOG = LoggerFactory.getLogger(IncrementalBuild.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** File under {@code paths.work} recording the last refresh decision and its measures. */
  static final String REFRESH_FILE = "refresh.json";

  private final JobContext ctx;

  IncrementalBuild(JobContext ctx) {
    this.ctx = ctx;
  }

  /** A live document of the base: its shard, digest and chunk count. */
  record BaseDoc(int shard, String digest, int chunks) implements Serializable {}

  /** A base shard as an executor reads it: its {@code docs.tsv} path and tombstones. */
  record BaseShard(int shard, String docsPath, List<String> tombstones) implements Serializable {}

  /** How a document differs from the base. */
  enum Kind { UNCHANGED, ADDED, CHANGED, DELETED }

  /** One document's change; {@code shard}/{@code chunks} are the base's (-1/0 for an added document). */
  record Change(String docId, Kind kind, int shard, int chunks) implements Serializable {}

  /** The base version: its id, directory, manifest, frozen quantizer and the embeddings' model (checked to match). */
  private record Base(String id, String dir, IndexManifest manifest, BuildIndexJob.Quantizer q,
      IndexManifest.Model embModel) {}

  /**
   * The changes by document, summed: counts by kind, the documents to encode (added, changed), the base documents
   * to tombstone by shard (changed, deleted) and their chunks.
   */
  private record ChangeSet(List<Change> changes, Map<Kind, Long> counts, Set<String> deltaDocs,
      Map<Integer, TreeSet<String>> tombstones, long newTombChunks) {
    static ChangeSet of(List<Change> changes) {
      Map<Kind, Long> counts = new TreeMap<>();
      for (Kind k : Kind.values()) {
        counts.put(k, 0L);
      }
      Set<String> deltaDocs = new TreeSet<>();
      Map<Integer, TreeSet<String>> tombstones = new TreeMap<>();
      long newTombChunks = 0;
      for (Change c : changes) {
        counts.merge(c.kind(), 1L, Long::sum);
        if (c.kind() == Kind.ADDED || c.kind() == Kind.CHANGED) {
          deltaDocs.add(c.docId());
        }
        if (c.kind() == Kind.CHANGED || c.kind() == Kind.DELETED) {
          tombstones.computeIfAbsent(c.shard(), x -> new TreeSet<>()).add(c.docId());
          newTombChunks += c.chunks();
        }
      }
      return new ChangeSet(changes, counts, deltaDocs, tombstones, newTombChunks);
    }

    long count(Kind k) {
      return counts.get(k);
    }
  }

  /**
   * Runs the steps: open the base, detect the changes, encode the new documents, decide ({@link RefreshDecision}),
   * then write the version the decision asks for.
   *
   * @throws RetrainRequiredException when the new vectors drifted from the frozen quantizer (nothing written)
   */
  JobSummary run(JobSummary summary) throws Exception {
    Base base = openBase();
    JobSummary retried = BuildIndexJob.reuseSameBuild(ctx, ctx.config().segments(), base.q().sha256(),
        base.embModel(), summary);
    if (retried != null) {
      return retried.put("base", base.id());
    }
    ChangeSet changes = ChangeSet.of(detectChanges(base.manifest(), base.dir()));
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    // run even when no document changed: chunks without a document id are quarantined here, never dropped
    JavaRDD<BuildIndexJob.Encoded> encoded = BuildIndexJob.encodeInputs(ctx, base.q(),
        jsc.broadcast((Set<String>) new HashSet<>(changes.deltaDocs())), summary);
    try {
      JavaRDD<BuildIndexJob.Encoded> good = encoded.filter(e -> e.reason() == null);
      EncodingStats stats = encodingStats(good, base.q().model().nlist());
      IndexManifest.Refresh decided = decide(base, changes, stats, summary);
      if (RefreshDecision.Path.COMPACT.label().equals(decided.path())) {
        LOG.info("build: compacting every shard with the frozen quantizer of {}: {}", base.id(), decided.reasons());
        return BuildIndexJob.writeFull(ctx, base.q(), base.embModel(), summary.put("refresh", decided), decided,
            "\ncompact:" + base.id());
      }
      return writeIncremental(base, changes, good, stats.count(), decided, summary);
    } finally {
      encoded.unpersist(false);
    }
  }

  /** Reads the base version's manifest and quantizer and checks that this build can refresh it. */
  private Base openBase() throws IOException {
    SegmentsConfig cfg = ctx.config().segments();
    String indexDir = ctx.config().paths().indexDir();
    String baseId = cfg.base().isEmpty() ? PublishedIndex.current(ctx) : cfg.base();
    String baseDir = PublishedIndex.child(indexDir, baseId);
    String mp = PublishedIndex.child(baseDir, IndexManifest.FILE_NAME);
    if (!ctx.exists(mp)) {
      throw new IllegalArgumentException("segments.base: no complete version '" + baseId + "' under " + indexDir);
    }
    IndexManifest base = IndexManifest.parse(ctx.readString(mp), mp);
    String qp = PublishedIndex.child(baseDir, base.quantizer().path());
    byte[] qb;
    try (InputStream in = ctx.open(qp)) {
      qb = in.readAllBytes();
    }
    BuildIndexJob.Quantizer q = BuildIndexJob.Quantizer.of(qb, qp);
    if (!q.sha256().equals(base.quantizer().sha256())) {
      throw new CorruptIndexFileException(qp, "SHA-256 differs from the base manifest's");
    }
    IndexManifest.Model embModel = BuildIndexJob.readModel(ctx, ctx.config().paths().embeddingsDir(),
        q.model().dim());
    List<String> problems = compatibility(base, embModel);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("segments.incremental: base version " + baseId + " cannot be refreshed "
          + "incrementally (run a full build: train + build): " + String.join("; ", problems));
    }
    return new Base(baseId, baseDir, base, q, embModel);
  }

  /** Quantization error and list sizes of the new vectors: per-partition sums merged in partition order. */
  private static EncodingStats encodingStats(JavaRDD<BuildIndexJob.Encoded> good, int nlist) {
    EncodingStats stats = new EncodingStats(nlist);
    for (EncodingStats s : good.mapPartitions(it -> {
      EncodingStats st = new EncodingStats(nlist);
      while (it.hasNext()) {
        BuildIndexJob.Encoded e = it.next();
        st.add(new QuantizerModel.Encoded(e.entry().list(), null, e.squaredError()));
      }
      return List.of(st).iterator();
    }).collect()) {
      stats.merge(s);
    }
    return stats;
  }

  /**
   * Measures the refresh, decides, records the decision in {@code <work>/refresh.json} and the summary.
   *
   * @return the measured refresh with the decided path
   * @throws RetrainRequiredException on drift
   */
  private IndexManifest.Refresh decide(Base base, ChangeSet changes, EncodingStats stats, JobSummary summary)
      throws IOException {
    long newVectors = stats.count();
    IndexManifest.Refresh measured = RefreshDecision.measure(new RefreshDecision.Changes(base.id(),
        base.manifest(), changes.count(Kind.ADDED), changes.count(Kind.CHANGED), changes.count(Kind.DELETED),
        changes.newTombChunks(), newVectors, newVectors == 0 ? null : stats.mse(),
        newVectors == 0 ? null : stats.imbalanceFactor(), base.q().model().info().metrics()));
    RefreshDecision decision = RefreshDecision.decide(ctx.config().segments(), measured);
    IndexManifest.Refresh decided = measured.as(decision.path().label(), decision.reasons(),
        measured.keptShards(), measured.deltaShards(), measured.tombstonedChunks(), measured.tombstoneShare());
    ctx.writeString(PublishedIndex.child(ctx.config().paths().work(), REFRESH_FILE),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(decided));
    summary.put("base", base.id()).put("refreshPath", decision.path().label());
    LOG.info("build: refresh of {}: {} added, {} changed, {} deleted, {} unchanged documents; {} new vectors, "
        + "MSE ratio {}, imbalance {}, tombstone share {} -> {} {}", base.id(), measured.addedDocs(),
        measured.changedDocs(), measured.deletedDocs(), measured.unchangedDocs(), newVectors, measured.mseRatio(),
        measured.imbalanceFactor(), measured.tombstoneShare(), decision.path().label(), decision.reasons());
    if (decision.path() == RefreshDecision.Path.RETRAIN) {
      LOG.warn("build: drift, taking the full-retrain path: {}", decision.reasons());
      throw new RetrainRequiredException(decided);
    }
    return decided;
  }

  /**
   * The incremental version: the base's shards copied byte for byte with the changed and deleted documents added to
   * their tombstones, plus delta shards holding the new vectors.
   */
  private JobSummary writeIncremental(Base base, ChangeSet changes, JavaRDD<BuildIndexJob.Encoded> good,
      long newVectors, IndexManifest.Refresh decided, JobSummary summary) throws Exception {
    SegmentsConfig cfg = ctx.config().segments();
    IndexManifest bm = base.manifest();
    BuildIndexJob.Quantizer q = base.q();
    String salt = "\nincremental:" + base.id() + ":" + Checksums.sha256(changes.changes().toString()
        .getBytes(StandardCharsets.UTF_8));
    String version = BuildIndexJob.chooseVersion(ctx, cfg, q.sha256() + salt, base.embModel());
    String versionDir = PublishedIndex.child(ctx.config().paths().indexDir(), version);
    copyBaseShards(bm, base.dir(), versionDir);
    List<IndexManifest.Shard> shards = new ArrayList<>();
    for (IndexManifest.Shard s : bm.shards()) {
      TreeSet<String> t = new TreeSet<>(s.tombstones());
      t.addAll(changes.tombstones().getOrDefault(s.id(), new TreeSet<>()));
      shards.add(new IndexManifest.Shard(s.id(), s.dir(), s.chunks(), s.docs(), s.listFrom(), s.listTo(),
          s.files(), t.isEmpty() ? null : List.copyOf(t)));
    }
    int nDelta = 0;
    if (newVectors > 0) {
      nDelta = cfg.targetShardChunks() > 0
          ? (int) Math.max(1, (newVectors + cfg.targetShardChunks() - 1) / cfg.targetShardChunks()) : 1;
      int nd = nDelta;
      JavaPairRDD<Integer, ShardEntry> keyed = good.map(BuildIndexJob.Encoded::entry)
          .mapToPair(e -> new Tuple2<>(Sharding.hashShard(e.docId(), nd), e));
      for (ShardTask.Result r : BuildIndexJob.writeShards(ctx, versionDir, q, keyed, nDelta,
          bm.shards().size())) {
        shards.add(new IndexManifest.Shard(r.shard(), IndexManifest.shardDir(r.shard()), r.chunks(), r.docs(), 0,
            q.model().nlist(), r.files()));
      }
    }
    long chunks = bm.chunks() - changes.newTombChunks() + newVectors;
    long docs = bm.docs() - changes.count(Kind.DELETED) + changes.count(Kind.ADDED);
    IndexManifest.Refresh written = decided.as(decided.path(), decided.reasons(), bm.shards().size(), nDelta,
        decided.tombstonedChunks(), decided.tombstoneShare());
    return BuildIndexJob.finish(ctx, q, base.embModel(), version, shards, chunks, docs, written,
        summary.put("refresh", written));
  }

  /** Why {@code base} cannot be the base of this build (empty: it can). */
  List<String> compatibility(IndexManifest base, IndexManifest.Model embModel) throws IOException {
    SegmentsConfig cfg = ctx.config().segments();
    List<String> p = new ArrayList<>();
    if (!embModel.sha256().equals(base.model().sha256())) {
      p.add("the embeddings' model (" + embModel.modelId() + ", sha256 " + embModel.sha256() + ") is not the base's ("
          + base.model().modelId() + ", sha256 " + base.model().sha256() + ")");
    }
    if (!cfg.rescore().equals(base.rescore())) {
      p.add("segments.rescore " + cfg.rescore() + " but the base has " + base.rescore());
    }
    if (base.bm25() == null || base.bm25().k1() != cfg.bm25K1() || base.bm25().b() != cfg.bm25B()) {
      p.add("segments.bm25K1/bm25B " + cfg.bm25K1() + "/" + cfg.bm25B() + " but the base has "
          + (base.bm25() == null ? "no BM25 part" : base.bm25().k1() + "/" + base.bm25().b()));
    }
    JsonNode now = JSON.readTree(ctx.configJson());
    JsonNode then = base.config() == null ? JSON.createObjectNode() : base.config();
    if (!chunkOutputParams(now).equals(chunkOutputParams(then))) {
      p.add("chunking differs from the base's (" + then.path("chunking") + ")");
    }
    if (!now.path("embedding").path("maxSeqLength").equals(then.path("embedding").path("maxSeqLength"))) {
      p.add("embedding.maxSeqLength differs from the base's (" + then.path("embedding").path("maxSeqLength") + ")");
    }
    for (IndexManifest.Shard s : base.shards()) {
      String docs = s.dir() + "/" + DocumentDigests.FILE_NAME;
      if (s.files().stream().noneMatch(f -> f.path().equals(docs))) {
        p.add("shard " + s.dir() + " has no " + DocumentDigests.FILE_NAME + " (built before incremental builds)");
        break;
      }
    }
    return p;
  }

  /** A config's {@code chunking} section without {@code reuseFrom}, which does not change the chunks. */
  private static JsonNode chunkOutputParams(JsonNode config) {
    JsonNode c = config.path("chunking");
    if (c instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
      return o.deepCopy().without("reuseFrom");
    }
    return c;
  }

  /** Classifies every document of the new chunks and of the base's live documents; returns all but unchanged. */
  List<Change> detectChanges(IndexManifest base, String baseDir) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    JavaPairRDD<String, String> fresh = ctx.spark().read().option("pathGlobFilter", "*.parquet")
        .parquet(ctx.config().paths().chunksDir())
        .select("chunk_id", "doc_id", "ordinal", "title", "text", "start_char", "end_char").javaRDD()
        .filter(r -> r.getAs("doc_id") != null && r.getAs("chunk_id") != null)
        .mapToPair(IncrementalBuild::content)
        .groupByKey()
        .mapValues(cs -> {
          List<DocumentDigests.ChunkContent> l = new ArrayList<>();
          cs.forEach(l::add);
          return DocumentDigests.digest(l);
        });
    List<BaseShard> shards = new ArrayList<>();
    for (IndexManifest.Shard s : base.shards()) {
      shards.add(new BaseShard(s.id(), PublishedIndex.child(PublishedIndex.child(baseDir, s.dir()),
          DocumentDigests.FILE_NAME), s.tombstones()));
    }
    SerializableConf conf = new SerializableConf(ctx.hadoopConf());
    JavaPairRDD<String, BaseDoc> live = jsc.parallelize(shards, shards.size()).flatMapToPair(bs -> {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(bs.docsPath());
      Map<String, DocumentDigests.Doc> docs;
      try (InputStream in = p.getFileSystem(conf.get()).open(p)) {
        docs = DocumentDigests.read(in, bs.docsPath());
      }
      Set<String> dead = new HashSet<>(bs.tombstones());
      List<Tuple2<String, BaseDoc>> out = new ArrayList<>();
      docs.forEach((id, d) -> {
        if (!dead.contains(id)) {
          out.add(new Tuple2<>(id, new BaseDoc(bs.shard(), d.digest(), d.chunks())));
        }
      });
      return out.iterator();
    });
    List<Change> out = new ArrayList<>(fresh.fullOuterJoin(live).map(t -> {
      String id = t._1();
      if (!t._2()._2().isPresent()) {
        return new Change(id, Kind.ADDED, -1, 0);
      }
      BaseDoc b = t._2()._2().get();
      if (!t._2()._1().isPresent()) {
        return new Change(id, Kind.DELETED, b.shard(), b.chunks());
      }
      return new Change(id, t._2()._1().get().equals(b.digest()) ? Kind.UNCHANGED : Kind.CHANGED, b.shard(),
          b.chunks());
    }).filter(c -> c.kind() != Kind.UNCHANGED).collect());
    out.sort(java.util.Comparator.comparing(Change::docId));
    return out;
  }

  private static Tuple2<String, DocumentDigests.ChunkContent> content(Row r) {
    return new Tuple2<>(r.getAs("doc_id"), new DocumentDigests.ChunkContent(r.getAs("chunk_id"),
        num(r, "ordinal"), num(r, "start_char"), num(r, "end_char"), r.getAs("title"), r.getAs("text")));
  }

  private static int num(Row r, String f) {
    return r.isNullAt(r.fieldIndex(f)) ? -1 : ((Number) r.getAs(f)).intValue();
  }

  /** Copies every file of the base's shards into the new version (same relative paths, same bytes). */
  private void copyBaseShards(IndexManifest base, String baseDir, String versionDir) throws IOException {
    FileSystem src = ctx.fs(baseDir);
    FileSystem dst = ctx.fs(versionDir);
    for (IndexManifest.Shard s : base.shards()) {
      for (IndexManifest.FileEntry f : s.files()) {
        Checksums.resolveInside(java.nio.file.Path.of("/v"), f.path()); // refuses paths leaving the version
        FileUtil.copy(src, new org.apache.hadoop.fs.Path(PublishedIndex.child(baseDir, f.path())), dst,
            new org.apache.hadoop.fs.Path(PublishedIndex.child(versionDir, f.path())), false, true,
            ctx.hadoopConf());
      }
    }
  }
}
