package io.quarry.jobs.build;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarry.core.search.DenseSearcher;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.search.ScoredChunk;
import io.quarry.core.search.SearchOptions;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.SparkTest;
import io.quarry.jobs.SparkTestSupport;
import io.quarry.jobs.chunk.ChunkJob;
import io.quarry.jobs.embed.EmbedJob;
import io.quarry.jobs.train.TrainQuantizerJob;
import io.quarry.lexical.Bm25Index;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, part 5: a simulated change stream on the data-samples SciFact slice (real chunking, real ONNX embedding
 * with {@code embedding.reuseFrom=auto}, real Spark) over three refreshes — adds, edits and deletes; an unchanged
 * day; edits of documents added by an earlier refresh and the re-adding of a deleted one. After each refresh the
 * incremental version (base shards kept, delta shards, tombstones) is compared with a version rebuilt in full from
 * the same inputs with the same frozen quantizer ({@code quarry compact}): the same live documents and chunks, the
 * same dense ADC, exact re-scoring, BM25 and hybrid results with the same scores, deleted documents never returned
 * by any stage, and nothing re-embedded that did not change. (BM25 statistics are summed over the version's shards
 * with the tombstoned chunks subtracted, so a live chunk's BM25 score does not depend on the layout.)
 *
 * <p>Every test starts from the same day 0, the first 300 documents: chunked and embedded once for the class
 * ({@link #day0Ingest()}, everything computed) and copied into each test's work directory, as if that test had
 * ingested it (chunking and embedding do not depend on the quantizer settings that differ between the tests).
 */
@SparkTest
class IncrementalRefreshTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  static SparkSession spark;
  static Map<String, ObjectNode> ALL;
  /** The full rebuild (frozen quantizer) of the last refresh. */
  String lastFull;

  @TempDir Path tmp;

  /** Day 0 chunked and embedded once for the class ({@link #day0Ingest()}). */
  @TempDir static Path shared;
  private static Path day0Work;

  @BeforeAll
  static void start() {
    spark = SparkTestSupport.localSpark("refresh-test", 4);
  }

  @AfterAll
  static void stop() {
    SparkTestSupport.release(spark);
  }

  /** The corpus of one day: doc id → BEIR record. */
  static Map<String, ObjectNode> corpus() throws Exception {
    Map<String, ObjectNode> docs = new LinkedHashMap<>();
    for (String line : Files.readAllLines(ROOT.resolve("data-samples/scifact/corpus.jsonl"))) {
      if (!line.isBlank()) {
        ObjectNode n = (ObjectNode) JSON.readTree(line);
        docs.put(n.get("_id").asText(), n);
      }
    }
    return docs;
  }

  static Path write(Path file, Map<String, ObjectNode> docs) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (ObjectNode n : docs.values()) {
      sb.append(JSON.writeValueAsString(n)).append('\n');
    }
    Files.writeString(file, sb.toString());
    return file;
  }

  static ObjectNode edited(ObjectNode n, String day) {
    ObjectNode c = n.deepCopy();
    c.put("text", n.get("text").asText() + " Revised on " + day + ": the findings were replicated in a second cohort.");
    return c;
  }

  JobContext ctx(Path work, Path corpus, String... extra) {
    List<String> o = new ArrayList<>(List.of("input.corpus=" + corpus, "chunking.reuseFrom=auto", "embedding.reuseFrom=auto",
        "quantizer.spec=IVF16,PQ48x8", "quantizer.seed=42", "segments.shards=2",
        "segments.driftMaxMseRatio=0", "segments.driftMaxChangedShare=1"));
    o.addAll(List.of(extra));
    return SparkTestSupport.context(spark, work, o.toArray(String[]::new));
  }

  /** The first 300 documents of the slice: day 0 of every test. */
  static Map<String, ObjectNode> day0(Map<String, ObjectNode> all) {
    Map<String, ObjectNode> day = new LinkedHashMap<>();
    new ArrayList<>(all.keySet()).subList(0, 300).forEach(id -> day.put(id, all.get(id)));
    return day;
  }

  /**
   * Day 0 chunked and embedded, once for the class, in a work directory of its own with nothing to reuse: every
   * chunk computed. Returns that work directory (its {@code chunks} and {@code embeddings}).
   */
  static synchronized Path day0Ingest() throws Exception {
    if (day0Work == null) {
      Path work = shared.resolve("day0-work");
      Map<String, ObjectNode> day = day0(corpus());
      JobContext c = SparkTestSupport.context(spark, work, "input.corpus=" + write(shared.resolve("day0.jsonl"), day),
          "chunking.reuseFrom=auto", "embedding.reuseFrom=auto");
      JobSummary e = ingest(c);
      assertThat(e.get("reused")).isEqualTo(0L);
      assertThat(e.get("computed")).isEqualTo(e.get("chunks"));
      JsonNode chunked = JSON.readTree(Path.of(ChunkJob.summaryPath(c.config().paths().chunksDir())).toFile());
      assertThat(chunked.get("documentsChunked").asLong()).isEqualTo(day.size());
      day0Work = work;
    }
    return day0Work;
  }

  /** Puts the class's day-0 chunks and embeddings into {@code work} (as {@link #ingest} of day 0 would). */
  static void copyDay0(Path work) throws Exception {
    Path from = day0Ingest();
    for (String dir : List.of("chunks", "embeddings")) {
      Path src = from.resolve(dir);
      try (var files = Files.walk(src)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Path to = work.resolve(dir).resolve(src.relativize(f).toString());
          if (Files.isDirectory(f)) {
            Files.createDirectories(to);
          } else {
            Files.copy(f, to);
          }
        }
      }
    }
  }

  /** Chunk and embed one day; returns the embed summary. */
  static JobSummary ingest(JobContext c) throws Exception {
    new ChunkJob().run(c);
    return new EmbedJob().run(c);
  }

  /** (title, text) of every chunk of the current chunks output. */
  static Set<String> chunkTexts(JobContext c) {
    Set<String> out = new java.util.HashSet<>();
    spark.read().parquet(c.config().paths().chunksDir()).select("title", "text").collectAsList()
        .forEach(r -> out.add(r.getString(0) + "\u0000" + r.getString(1)));
    return out;
  }

  /** Chunks per document of the current chunks output. */
  static Map<String, Long> chunksPerDoc(JobContext c) {
    Map<String, Long> out = new TreeMap<>();
    spark.read().parquet(c.config().paths().chunksDir()).groupBy("doc_id").count().collectAsList()
        .forEach(r -> out.put(r.getString(0), r.getLong(1)));
    return out;
  }

  @Test
  void threeRefreshesEqualFullBuildsWithTheFrozenQuantizer() throws Exception {
    Path work = tmp.resolve("work");
    Map<String, ObjectNode> all = corpus();
    ALL = all;
    List<String> ids = new ArrayList<>(all.keySet());
    Path index = work.resolve("index");

    // day 0: the first 300 documents (chunked and embedded once for the class: every chunk computed), full
    // pipeline (train + build)
    Map<String, ObjectNode> day = day0(all);
    JobContext c0 = ctx(work, write(tmp.resolve("day0.jsonl"), day));
    copyDay0(work);
    new TrainQuantizerJob().run(c0);
    String base = (String) new BuildIndexJob().run(c0).get("version");
    Map<String, List<float[]>> vectorsOfDoc = vectorsByDoc(index.resolve(base));
    Set<String> everDeleted = new TreeSet<>();

    // day 1: 20 added, 10 edited, 10 deleted
    Map<String, ObjectNode> d1 = new LinkedHashMap<>(day);
    ids.subList(300, 320).forEach(id -> d1.put(id, all.get(id)));
    ids.subList(0, 10).forEach(id -> d1.put(id, edited(all.get(id), "day 1")));
    ids.subList(10, 20).forEach(d1::remove);
    everDeleted.addAll(ids.subList(10, 20));
    String v1 = refresh(work, "day1", d1, base, Set.copyOf(ids.subList(300, 320)), Set.copyOf(ids.subList(0, 10)),
        Set.copyOf(ids.subList(10, 20)), everDeleted, vectorsOfDoc);

    // day 2: nothing changed: no embedding, no delta shard, same live content
    String v2 = refresh(work, "day2", d1, v1, Set.of(), Set.of(), Set.of(), everDeleted, vectorsOfDoc);

    // day 3: 20 more added and a deleted one re-added (original text); edits of a day-1 addition and of a doc
    // edited before; 10 base documents and a day-1 addition deleted
    Map<String, ObjectNode> d3 = new LinkedHashMap<>(d1);
    ids.subList(320, 340).forEach(id -> d3.put(id, all.get(id)));
    d3.put(ids.get(10), all.get(ids.get(10)));
    List<String> edits3 = List.of(ids.get(300), ids.get(301), ids.get(0));
    edits3.forEach(id -> d3.put(id, edited(all.get(id), "day 3")));
    List<String> del3 = new ArrayList<>(ids.subList(20, 30));
    del3.add(ids.get(305));
    del3.forEach(d3::remove);
    everDeleted.remove(ids.get(10));
    everDeleted.addAll(del3);
    Set<String> added3 = new TreeSet<>(ids.subList(320, 340));
    added3.add(ids.get(10));
    String v3 = refresh(work, "day3", d3, v2, added3, Set.copyOf(edits3), Set.copyOf(del3), everDeleted,
        vectorsOfDoc);

    // evaluation over the incremental version: deleted documents in no stage's run; the same dense metrics as the
    // version rebuilt in full with the frozen quantizer
    Path corpus3 = tmp.resolve("day3.jsonl");
    Map<String, JsonNode> metrics = new HashMap<>();
    for (String v : List.of(v3, lastFull)) {
      new io.quarry.jobs.eval.EvaluateJob().run(ctx(work, corpus3, "segments.version=" + v,
          "evaluation.runId=" + v, "evaluation.queries=" + ROOT.resolve("data-samples/scifact/queries.jsonl"),
          "evaluation.qrels=" + ROOT.resolve("data-samples/scifact/qrels/test.tsv"),
          "evaluation.stages=[bm25,ivfpq,rescore,hybrid]", "evaluation.sweepNprobe=[]",
          "evaluation.sweepCandidates=[]", "evaluation.fusion=rrf:k=60"));
      Path out = work.resolve("eval").resolve(v);
      metrics.put(v, JSON.readTree(out.resolve("metrics.json").toFile()));
      try (var runs = Files.list(out.resolve("runs"))) {
        List<Path> trec = runs.filter(p -> p.getFileName().toString().endsWith(".trec")).toList();
        assertThat(trec).hasSizeGreaterThanOrEqualTo(4);
        for (Path run : trec) {
          for (String line : Files.readAllLines(run)) {
            assertThat(everDeleted).as(run + ": " + line).doesNotContain(line.split("\\s+")[2]);
          }
        }
      }
    }
    for (String stage : List.of("ivfpq", "rescore")) {
      assertThat(stageMetrics(metrics.get(v3), stage)).as(stage)
          .isEqualTo(stageMetrics(metrics.get(lastFull), stage));
    }

    // the chain: every version validates on its own (files copied, not referenced): delete the older ones
    for (String old : List.of(base, v1, v2)) {
      ShardTask.deleteRecursively(index.resolve(old));
    }
    IndexVersion last = IndexVersion.open(index.resolve(v3), true);
    assertThat(last.manifest().formatVersion()).isEqualTo(IndexManifest.INCREMENTAL_FORMAT_VERSION);
    assertThat(Files.readString(index.resolve("CURRENT")).trim()).isEqualTo(v3);
  }

  /**
   * Ingests one day, builds it incrementally from {@code base}, rebuilds it in full with the same quantizer, and
   * compares the two; returns the incremental version.
   */
  String refresh(Path work, String name, Map<String, ObjectNode> docs, String base, Set<String> added,
      Set<String> changed, Set<String> deleted, Set<String> everDeleted, Map<String, List<float[]>> vectorsOfDoc)
      throws Exception {
    Path corpus = write(tmp.resolve(name + ".jsonl"), docs);
    JobContext c = ctx(work, corpus);
    Set<String> before = chunkTexts(c);
    JobSummary emb = ingest(c);
    Map<String, Long> perDoc = chunksPerDoc(c);
    long expectComputed = 0; // chunks of the added and changed documents: the delta shards' chunks
    for (String id : added) {
      expectComputed += perDoc.get(id);
    }
    for (String id : changed) {
      expectComputed += perDoc.get(id);
    }
    // nothing re-embedded that did not change: exactly the chunks whose (title, text) is new (an edit at the end
    // of a long document changes its last chunk only)
    Set<String> after = chunkTexts(c);
    after.removeAll(before);
    assertThat(emb.get("computed")).as(name + " computed").isEqualTo((long) after.size());
    assertThat((Long) emb.get("computed")).isLessThanOrEqualTo(expectComputed);
    assertThat((Long) emb.get("reused") + (Long) emb.get("computed")).isEqualTo(emb.get("chunks"));
    // nothing re-tokenized that did not change: the chunk rows of every other document were reused
    JsonNode chunked = JSON.readTree(Path.of(ChunkJob.summaryPath(c.config().paths().chunksDir())).toFile());
    assertThat(chunked.get("reuse").asText()).isEqualTo("used");
    assertThat(chunked.get("documentsChunked").asLong()).as(name + " chunked").isEqualTo(added.size() + changed.size());
    assertThat(chunked.get("documentsReused").asLong()).isEqualTo(docs.size() - added.size() - changed.size());

    JobSummary inc = new BuildIndexJob().run(ctx(work, corpus, "segments.incremental=true",
        "segments.base=" + base));
    String v = (String) inc.get("version");
    assertThat(inc.get("refreshPath")).isEqualTo("incremental");
    Path index = work.resolve("index");
    IndexManifest m = IndexVersion.readManifest(index.resolve(v));
    IndexManifest bm = IndexVersion.readManifest(index.resolve(base));
    IndexManifest.Refresh r = m.refresh();
    assertThat(r.base()).isEqualTo(base);
    assertThat(r.addedDocs()).as(name + " added").isEqualTo(added.size());
    assertThat(r.changedDocs()).as(name + " changed").isEqualTo(changed.size());
    assertThat(r.deletedDocs()).as(name + " deleted").isEqualTo(deleted.size());
    assertThat(r.newVectors()).isEqualTo(expectComputed);
    assertThat(r.keptShards()).isEqualTo(bm.shards().size());
    assertThat(r.deltaShards()).isEqualTo(expectComputed == 0 ? 0 : 1);
    assertThat(m.docs()).isEqualTo(docs.size());
    // the frozen quantizer: the base's bytes
    assertThat(m.quantizer().sha256()).isEqualTo(bm.quantizer().sha256());
    // kept shards are the base's files, byte for byte
    for (int s = 0; s < bm.shards().size(); s++) {
      assertThat(m.shards().get(s).files()).isEqualTo(bm.shards().get(s).files());
    }
    if (expectComputed > 0) {
      assertThat(r.newVectorMse()).isPositive();
      assertThat(r.mseRatio()).isPositive();
      assertThat(r.imbalanceFactor()).isGreaterThanOrEqualTo(1.0);
    }
    assertThat(Files.readString(index.resolve("CURRENT")).trim()).isEqualTo(v);

    JobSummary full = new BuildIndexJob().run(ctx(work, corpus, "segments.incremental=true",
        "segments.compact=true", "segments.base=" + v, "segments.publish=false"));
    assertThat(full.get("refreshPath")).isEqualTo("compact");
    String f = (String) full.get("version");
    IndexManifest fm = IndexVersion.readManifest(index.resolve(f));
    assertThat(fm.quantizer().sha256()).isEqualTo(bm.quantizer().sha256());
    assertThat(fm.shards()).allMatch(s -> s.tombstones().isEmpty());
    assertThat(fm.formatVersion()).isEqualTo(IndexManifest.FORMAT_VERSION);
    assertThat(Files.readString(index.resolve("CURRENT")).trim()).isEqualTo(v);

    compare(index.resolve(v), index.resolve(f), docs.keySet(), everDeleted, vectorsOfDoc, name);
    lastFull = f;
    vectorsOfDoc.putAll(vectorsByDoc(index.resolve(f)));
    return v;
  }

  /** Live chunk id → vector of a version, grouped by document. */
  static Map<String, List<float[]>> vectorsByDoc(Path dir) throws Exception {
    IndexVersion v = IndexVersion.open(dir, true);
    Map<String, List<float[]>> out = new TreeMap<>();
    for (IndexVersion.Shard s : v.shards()) {
      for (int i = 0; i < s.table().size(); i++) {
        if (s.live(i)) {
          float[] x = new float[v.manifest().dim()];
          s.vectors().get(i, x);
          out.computeIfAbsent(s.table().docId(i), k -> new ArrayList<>()).add(x);
        }
      }
    }
    return out;
  }

  /** Live chunk id → vector. */
  static Map<String, float[]> liveVectors(IndexVersion v) {
    Map<String, float[]> out = new TreeMap<>();
    for (IndexVersion.Shard s : v.shards()) {
      for (int i = 0; i < s.table().size(); i++) {
        if (s.live(i)) {
          float[] x = new float[v.manifest().dim()];
          s.vectors().get(i, x);
          assertThat(out.put(s.table().chunkId(i), x)).as("chunk live twice: " + s.table().chunkId(i)).isNull();
        }
      }
    }
    return out;
  }

  /** (chunk id, score) of dense hits, by score descending then chunk id. */
  static Map<String, Float> scoresByChunk(List<HybridSearcher.Hit> hits) {
    Map<String, Float> out = new HashMap<>();
    hits.forEach(h -> out.put(h.chunkId(), h.score()));
    return out;
  }

  static List<Map.Entry<String, Float>> named(IndexVersion v, List<ScoredChunk> hits) {
    List<Map.Entry<String, Float>> out = new ArrayList<>();
    for (ScoredChunk h : hits) {
      out.add(Map.entry(v.shards().get(h.shard()).table().chunkId(h.id()), h.score()));
    }
    out.sort(Map.Entry.<String, Float>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
    return out;
  }

  static void compare(Path incDir, Path fullDir, Set<String> liveDocs, Set<String> everDeleted,
      Map<String, List<float[]>> vectorsOfDoc, String name) throws Exception {
    IndexVersion inc = IndexVersion.open(incDir, true);
    IndexVersion full = IndexVersion.open(fullDir, true);
    // same live chunks with the same (re-scoring) vectors and the same documents
    Map<String, float[]> a = liveVectors(inc);
    Map<String, float[]> b = liveVectors(full);
    assertThat(a.keySet()).as(name + " live chunks").isEqualTo(b.keySet());
    a.forEach((cid, x) -> assertThat(x).as(cid).isEqualTo(b.get(cid)));
    Set<String> docsA = new TreeSet<>();
    for (IndexVersion.Shard s : inc.shards()) {
      for (int i = 0; i < s.table().size(); i++) {
        if (s.live(i)) {
          docsA.add(s.table().docId(i));
        }
      }
    }
    assertThat(docsA).isEqualTo(new TreeSet<>(liveDocs));

    // queries: vectors of live chunks, of edited documents' old versions and of deleted documents
    List<float[]> queries = new ArrayList<>();
    int i = 0;
    for (float[] x : b.values()) {
      if (i++ % 23 == 0) {
        queries.add(x);
      }
    }
    for (String d : everDeleted) {
      queries.addAll(vectorsOfDoc.getOrDefault(d, List.of()));
    }
    assertThat(queries).hasSizeGreaterThan(20);
    DenseSearcher da = new DenseSearcher(inc);
    DenseSearcher db = new DenseSearcher(full);
    Map<String, float[]> byText = new HashMap<>();
    try (Bm25Index la = Bm25Index.open(incDir, inc.manifest()); Bm25Index lb = Bm25Index.open(fullDir,
        full.manifest())) {
      int q = 0;
      for (float[] x : queries) {
        for (int nprobe : new int[] {4, 16}) {
          List<Map.Entry<String, Float>> ha = named(inc, da.search(x, 20, nprobe));
          List<Map.Entry<String, Float>> hb = named(full, db.search(x, 20, nprobe));
          // same ADC scores (same codes: same vectors, same quantizer) and the same chunks
          assertThat(ha).as(name + " dense nprobe " + nprobe).isEqualTo(hb);
        }
        String text = "q" + q++;
        byText.put(text, x);
      }
      HybridSearcher ha = new HybridSearcher(inc, byText::get, la, null);
      HybridSearcher hb = new HybridSearcher(full, byText::get, lb, null);
      for (String text : byText.keySet()) {
        SearchOptions dense = SearchOptions.builder().k(10).mode(SearchOptions.Mode.RESCORE).nprobe(16).depth(50)
            .rescoreDepth(50).build();
        List<HybridSearcher.Hit> ra = ha.search(new HybridSearcher.Request(text, dense)).hits();
        List<HybridSearcher.Hit> rb = hb.search(new HybridSearcher.Request(text, dense)).hits();
        assertThat(exact(ra)).as(name + " exact re-scoring").isEqualTo(exact(rb));
        SearchOptions hybrid = SearchOptions.builder().k(20).mode(SearchOptions.Mode.HYBRID).nprobe(16).depth(50)
            .build();
        // same chunks, same fused scores (to float rounding: the normalization sums candidates in (shard, id) order,
        // which differs between the layouts)
        Map<String, Float> fa = scoresByChunk(ha.search(new HybridSearcher.Request(text, hybrid)).hits());
        Map<String, Float> fb = scoresByChunk(hb.search(new HybridSearcher.Request(text, hybrid)).hits());
        assertThat(fa.keySet()).as(name + " hybrid").isEqualTo(fb.keySet());
        fa.forEach((c, v) -> assertThat(v).as(name + " hybrid " + c).isCloseTo(fb.get(c),
            org.assertj.core.api.Assertions.within(1e-5f)));
      }
      // BM25 and hybrid: the deleted documents' own titles and texts never bring them back
      for (String d : everDeleted) {
        List<float[]> vs = vectorsOfDoc.get(d);
        if (vs == null) {
          continue;
        }
        ObjectNode doc = ALL.get(d);
        String body = doc.get("text").asText();
        String t = doc.get("title").asText() + " " + body.substring(0, Math.min(300, body.length()));
        byText.put(t, vs.get(0));
        for (SearchOptions.Mode mode : List.of(SearchOptions.Mode.BM25, SearchOptions.Mode.HYBRID,
            SearchOptions.Mode.RESCORE)) {
          for (HybridSearcher.Hit h : ha.search(new HybridSearcher.Request(t, SearchOptions.builder().k(50)
              .mode(mode).nprobe(16).depth(200).rescoreDepth(50).build())).hits()) {
            assertThat(everDeleted).as(name + " " + mode + " returned deleted " + h.docId()).doesNotContain(h.docId());
            assertThat(a).containsKey(h.chunkId());
          }
        }
      }
      // lexical queries over the whole slice: only live chunks
      for (String qt : List.of("stem cells glioblastoma", "vitamin D deficiency", "insulin resistance obesity",
          "randomized controlled trial mortality")) {
        // every matching chunk, with the same BM25 score as in the full rebuild
        assertThat(named(inc, la.search(qt, 100_000))).as(name + " BM25 " + qt)
            .isEqualTo(named(full, lb.search(qt, 100_000)));
        for (io.quarry.core.search.ScoredChunk h : la.search(qt, 100)) {
          String docId = inc.shards().get(h.shard()).table().docId(h.id());
          assertThat(everDeleted).doesNotContain(docId);
          assertThat(inc.shards().get(h.shard()).live(h.id())).isTrue();
        }
      }
    }
  }

  /**
   * Part 3, drift: documents of another collection (paragraphs of Quarry's own documentation: software, not
   * biomedicine) fed to an incremental build trip {@code segments.driftMaxMseRatio} (the new vectors' quantization
   * error under the frozen codebooks over the training error): the build refuses with the retrain path, writes
   * nothing under the index and records the measures in {@code refresh.json}; as many new documents of the same
   * collection (SciFact) do not. The quantizer is small (IVF4,PQ16x4: 16 codewords per sub-space on ~500 training
   * vectors), so its in-sample training error is a fair reference for held-out vectors of the same collection.
   */
  @Test
  void anotherCollectionTripsTheDriftThresholdTheSameCollectionDoesNot() throws Exception {
    Path work = tmp.resolve("work");
    Map<String, ObjectNode> all = corpus();
    List<String> ids = new ArrayList<>(all.keySet());
    Map<String, ObjectNode> day = day0(all);
    String[] spec = {"quantizer.spec=IVF4,PQ16x4", "segments.driftMaxMseRatio=1.5", "segments.driftMaxChangedShare=1"};
    Path d0 = write(tmp.resolve("d0.jsonl"), day);
    JobContext c0 = ctx(work, d0, spec);
    copyDay0(work);
    new TrainQuantizerJob().run(c0);
    String base = (String) new BuildIndexJob().run(c0).get("version");
    Path index = work.resolve("index");

    // 40 paragraphs of another collection
    Map<String, ObjectNode> other = new LinkedHashMap<>(day);
    int n = 0;
    for (String f : List.of("docs/operations.md", "docs/architecture.md", "docs/benchmarks.md")) {
      for (String para : Files.readString(ROOT.resolve(f)).split("\n\\s*\n")) {
        String t = para.replaceAll("[`|#*\\[\\]]", " ").replaceAll("\\s+", " ").trim();
        if (t.length() >= 300 && n < 40) {
          ObjectNode o = JSON.createObjectNode();
          o.put("_id", "ext-" + n++).put("title", "").put("text", t);
          other.put(o.get("_id").asText(), o);
        }
      }
    }
    assertThat(n).isEqualTo(40);
    JobContext co = ctx(work, write(tmp.resolve("other.jsonl"), other), spec);
    ingest(co);
    JobContext incOther = ctx(work, tmp.resolve("other.jsonl"), concat(spec, "segments.incremental=true"));
    long versions = Files.list(index).count();
    RetrainRequiredException e = org.assertj.core.api.Assertions.catchThrowableOfType(
        RetrainRequiredException.class, () -> new BuildIndexJob().run(incOther));
    assertThat(e).as("another collection must trip the drift threshold").isNotNull();
    assertThat(e.refresh().mseRatio()).isGreaterThan(1.5);
    assertThat(e.reasons()).anyMatch(r -> r.contains("segments.driftMaxMseRatio"));
    assertThat(Files.list(index).count()).as("nothing written").isEqualTo(versions);
    assertThat(Files.readString(index.resolve("CURRENT")).trim()).isEqualTo(base);
    JsonNode recorded = JSON.readTree(work.resolve("refresh.json").toFile());
    assertThat(recorded.get("path").asText()).isEqualTo("retrain");
    assertThat(recorded.get("addedDocs").asLong()).isEqualTo(40);
    // the CLI's exit code for it
    assertThat(io.quarry.jobs.QuarryCli.EXIT_RETRAIN).isEqualTo(4);

    // 40 more documents of the same collection: incremental
    Map<String, ObjectNode> same = new LinkedHashMap<>(day);
    ids.subList(300, 340).forEach(id -> same.put(id, all.get(id)));
    JobContext cs = ctx(work, write(tmp.resolve("same.jsonl"), same), spec);
    ingest(cs);
    JobSummary ok = new BuildIndexJob().run(ctx(work, tmp.resolve("same.jsonl"),
        concat(spec, "segments.incremental=true")));
    assertThat(ok.get("refreshPath")).isEqualTo("incremental");
    IndexManifest.Refresh r = IndexVersion.readManifest(index.resolve((String) ok.get("version"))).refresh();
    assertThat(r.addedDocs()).isEqualTo(40);
    assertThat(r.mseRatio()).isLessThanOrEqualTo(1.5).isLessThan(e.refresh().mseRatio());
    System.out.printf("drift: mseRatio same collection %.3f, other collection %.3f; imbalance %.3f vs %.3f%n",
        r.mseRatio(), e.refresh().mseRatio(), r.imbalanceFactor(), e.refresh().imbalanceFactor());
  }

  /**
   * Nothing lost on the incremental path: a chunk row without a document id (with its embedding) belongs to no
   * document, so change detection cannot place it; the incremental build quarantines it with its reason
   * ({@code missing_field}, as a full build does) even on a day when no document changed, instead of dropping it.
   */
  @Test
  void incrementalBuildQuarantinesARowWithoutADocumentId() throws Exception {
    Path work = tmp.resolve("work");
    Map<String, ObjectNode> all = corpus();
    Map<String, ObjectNode> day = new LinkedHashMap<>();
    new ArrayList<>(all.keySet()).subList(0, 60).forEach(id -> day.put(id, all.get(id)));
    JobContext c0 = ctx(work, write(tmp.resolve("d0.jsonl"), day), "quantizer.spec=IVF4,PQ16x4");
    // the first 60 of day 0's documents: their chunks and vectors reused from the class's day 0 (the other 240
    // documents' dropped), nothing computed
    copyDay0(work);
    JobSummary e0 = ingest(c0);
    assertThat(e0.get("computed")).isEqualTo(0L);
    new TrainQuantizerJob().run(c0);
    String base = (String) new BuildIndexJob().run(c0).get("version");

    org.apache.spark.sql.Column noDoc = org.apache.spark.sql.functions.lit(null).cast("string");
    org.apache.spark.sql.Column orphan = org.apache.spark.sql.functions.lit("orphan-1");
    String chunks = c0.config().paths().chunksDir();
    String emb = c0.config().paths().embeddingsDir();
    spark.read().parquet(chunks).limit(1).withColumn("chunk_id", orphan).withColumn("doc_id", noDoc)
        .write().mode("append").parquet(chunks);
    spark.read().parquet(emb).limit(1).withColumn("chunk_id", orphan).withColumn("doc_id", noDoc)
        .write().mode("append").parquet(emb);

    JobContext inc = ctx(work, tmp.resolve("d0.jsonl"), "quantizer.spec=IVF4,PQ16x4", "segments.incremental=true");
    JobSummary s = new BuildIndexJob().run(inc);
    assertThat(s.get("refreshPath")).isEqualTo("incremental");
    assertThat(s.get("quarantined.missing_field")).isEqualTo(1L);
    List<org.apache.spark.sql.Row> q = spark.read().parquet(inc.config().paths().quarantineDir() + "/build")
        .collectAsList();
    assertThat(q).hasSize(1);
    assertThat(q.get(0).<String>getAs("chunk_id")).isEqualTo("orphan-1");
    assertThat(q.get(0).<String>getAs("reason")).isEqualTo("missing_field");
    IndexManifest.Refresh r = IndexVersion.readManifest(work.resolve("index").resolve((String) s.get("version")))
        .refresh();
    assertThat(r.base()).isEqualTo(base);
    assertThat(r.newVectors()).isZero();
  }

  static String[] concat(String[] a, String... b) {
    List<String> l = new ArrayList<>(List.of(a));
    l.addAll(List.of(b));
    return l.toArray(String[]::new);
  }

  /** The metrics of one stage in a metrics.json. */
  static JsonNode stageMetrics(JsonNode report, String stage) {
    for (JsonNode s : report.get("stages")) {
      if (s.get("name").asText().equals(stage)) {
        return s.get("metrics");
      }
    }
    throw new AssertionError("no stage " + stage);
  }

  /** (chunk id, exact score) of re-scored hits, sorted. */
  static List<Map.Entry<String, Float>> exact(List<HybridSearcher.Hit> hits) {
    List<Map.Entry<String, Float>> out = new ArrayList<>();
    for (HybridSearcher.Hit h : hits) {
      out.add(Map.entry(h.chunkId(), h.stageScore(HybridSearcher.RESCORE)));
    }
    out.sort(Map.Entry.<String, Float>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
    return out;
  }
}
