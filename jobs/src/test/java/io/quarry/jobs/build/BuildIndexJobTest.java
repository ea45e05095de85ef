package io.quarry.jobs.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.TrainingInfo;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.search.SearchOptions;
import io.quarry.core.segment.ChunkTableFile;
import io.quarry.core.segment.CorruptIndexFileException;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.SparkTest;
import io.quarry.jobs.SparkTestSupport;
import io.quarry.lexical.Bm25Index;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The build stage on synthetic chunks/embeddings with a hand-assembled quantizer, read back with the lib readers. */
@SparkTest
class BuildIndexJobTest {
  static SparkSession spark;
  static final int DIM = 8;
  static final String[] WORDS = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"};

  @TempDir Path tmp;

  @BeforeAll
  static void start() {
    spark = SparkTestSupport.localSpark("build-test", 4);
  }

  @AfterAll
  static void stop() {
    SparkTestSupport.release(spark);
  }

  static float[] unit(Random rnd) {
    float[] v = new float[DIM];
    double n = 0;
    for (int j = 0; j < DIM; j++) {
      v[j] = (float) rnd.nextGaussian();
      n += v[j] * v[j];
    }
    for (int j = 0; j < DIM; j++) {
      v[j] /= (float) Math.sqrt(n);
    }
    return v;
  }

  /** Writes chunks, embeddings (+ model.json) and a quantizer under work; returns the vectors by chunk id. */
  static Map<String, float[]> writeInputs(Path work, boolean withBadRows) throws Exception {
    Random rnd = new Random(11);
    StructType cs = new StructType().add("chunk_id", DataTypes.StringType).add("doc_id", DataTypes.StringType)
        .add("ordinal", DataTypes.IntegerType).add("title", DataTypes.StringType).add("text", DataTypes.StringType)
        .add("start_char", DataTypes.IntegerType).add("end_char", DataTypes.IntegerType)
        .add("n_tokens", DataTypes.IntegerType);
    StructType es = new StructType().add("chunk_id", DataTypes.StringType).add("doc_id", DataTypes.StringType)
        .add("vector", DataTypes.createArrayType(DataTypes.FloatType));
    List<Row> chunks = new ArrayList<>();
    List<Row> embs = new ArrayList<>();
    Map<String, float[]> vectors = new HashMap<>();
    for (int d = 0; d < 40; d++) {
      for (int o = 0; o < 3; o++) {
        String cid = "d" + d + "#" + o;
        String text = "chunk " + WORDS[(d + o) % WORDS.length] + " unique" + d + "x" + o + " of document " + d;
        chunks.add(RowFactory.create(cid, "d" + d, o, "Title " + d, text, o * 100, o * 100 + text.length(), 12));
        float[] v = unit(rnd);
        vectors.put(cid, v);
        Float[] boxed = new Float[DIM];
        for (int j = 0; j < DIM; j++) {
          boxed[j] = v[j];
        }
        embs.add(RowFactory.create(cid, "d" + d, java.util.Arrays.asList(boxed)));
      }
    }
    if (withBadRows) {
      chunks.add(RowFactory.create("orphan#0", "orphan", 0, "", "no embedding", 0, 12, 3));
      embs.add(RowFactory.create("ghost#0", "ghost", java.util.Arrays.asList(1f, 0f, 0f, 0f, 0f, 0f, 0f, 0f)));
      chunks.add(RowFactory.create("short#0", "short", 0, "", "short vector", 0, 12, 3));
      embs.add(RowFactory.create("short#0", "short", java.util.Arrays.asList(1f, 0f)));
    }
    spark.createDataFrame(chunks, cs).repartition(3).write().parquet(work.resolve("chunks").toString());
    spark.createDataFrame(embs, es).repartition(2).write().parquet(work.resolve("embeddings").toString());
    Files.writeString(work.resolve("embeddings/_model.json"),
        "{\"modelId\":\"test-model\",\"sha256\":\"abc123\",\"dim\":" + DIM + ",\"platforms\":[{\"arch\":"
            + "\"amd64\",\"isa\":[\"avx2\",\"avx512f\"],\"onnxRuntime\":\"1.28.0\"}]}");
    IndexSpec spec = IndexSpec.parse("IVF4,PQ4x8");
    float[] centroids = new float[4 * DIM];
    for (int i = 0; i < centroids.length; i++) {
      centroids[i] = (float) rnd.nextGaussian() * 0.3f;
    }
    float[] codebooks = new float[4 * 256 * 2];
    for (int i = 0; i < codebooks.length; i++) {
      codebooks[i] = (float) rnd.nextGaussian() * 0.3f;
    }
    QuantizerModel q =
        new QuantizerModel(spec, DistanceMetric.IP, DIM, null, centroids, codebooks, TrainingInfo.of(0, 1));
    Files.createDirectories(work.resolve("quantizer"));
    Files.write(work.resolve("quantizer/quantizer.bin"), QuantizerFormat.toBytes(q));
    return vectors;
  }

  static JobContext ctx(Path work, String... sets) {
    List<String> overrides = new ArrayList<>(List.of("spark.master=local[2]"));
    overrides.addAll(List.of(sets));
    return SparkTestSupport.context(spark, work, overrides.toArray(String[]::new));
  }

  @Test
  void manifestRewrittenByTuningStaysReadableThroughHadoop() throws Exception {
    Path work = tmp.resolve("crc");
    writeInputs(work, false);
    JobContext ctx = ctx(work, "segments.shards=2");
    String version = (String) new BuildIndexJob().run(ctx).get("version");
    String p = ctx.config().paths().indexDir() + "/" + version + "/" + IndexManifest.FILE_NAME;
    // the build wrote the manifest through Hadoop's local filesystem, which keeps a .crc beside it
    assertThat(work.resolve("index").resolve(version).resolve("." + IndexManifest.FILE_NAME + ".crc")).exists();
    for (String fusion : List.of("rrf:k=60", "convex:zscore,alpha=0.7")) {
      IndexManifest m = IndexManifest.parse(ctx.readString(p), p);
      PublishedIndex.rewriteManifest(ctx, m.withSearch(new IndexManifest.SearchDefaults(fusion, 4, 50, 50,
          "train.tsv (2 queries)", "nDCG@10", 0.5)));
      // read back through Hadoop (checksummed): the replaced file is not checked against the old file's CRC
      assertThat(IndexManifest.parse(ctx.readString(p), p).search().fusion()).isEqualTo(fusion);
    }
  }

  @Test
  void buildsValidatesPublishesAndSearches() throws Exception {
    Path work = tmp.resolve("w");
    Map<String, float[]> vectors = writeInputs(work, true);
    JobContext ctx = ctx(work, "segments.shards=3");
    JobSummary s = new BuildIndexJob().run(ctx);
    String version = (String) s.get("version");
    assertThat(version).matches("v-[0-9a-f]{12}");
    assertThat(s.get("chunks")).isEqualTo(120L);
    assertThat(s.get("docs")).isEqualTo(40L);
    assertThat(s.get("quarantined.chunk_without_embedding")).isEqualTo(1L);
    assertThat(s.get("quarantined.embedding_without_chunk")).isEqualTo(1L);
    assertThat(s.get("quarantined.wrong_dimension")).isEqualTo(1L);
    assertThat(spark.read().parquet(work.resolve("quarantine/build").toString()).count()).isEqualTo(3);
    Path index = work.resolve("index");
    assertThat(Files.readString(index.resolve("CURRENT"))).isEqualTo(version + "\n");

    IndexVersion v = IndexVersion.open(index.resolve(version), true);
    IndexManifest m = v.manifest();
    assertThat(m.shards()).hasSize(3);
    // the encoding statistics over every indexed chunk, as the quantizer encodes each vector on its own
    io.quarry.core.quant.train.EncodingStats expected = new io.quarry.core.quant.train.EncodingStats(4);
    for (String cid : vectors.keySet()) {
      expected.add(v.quantizer().encodeVector(vectors.get(cid)));
    }
    assertThat(expected.count()).isEqualTo(120);
    assertThat((Double) s.get("quantizationMse")).isCloseTo(expected.mse(),
        org.assertj.core.api.Assertions.within(1e-6 * expected.mse()));
    assertThat(s.get("imbalanceFactor")).isEqualTo(expected.imbalanceFactor());
    assertThat(s.get("emptyLists")).isEqualTo(expected.emptyLists());
    assertThat(m.shards().stream().mapToLong(IndexManifest.Shard::chunks).sum()).isEqualTo(120);
    assertThat(m.model().modelId()).isEqualTo("test-model");
    // the embeddings' platforms (processor kind, ONNX Runtime) travel into the manifest
    assertThat(m.model().platforms()).containsExactly(
        new io.quarry.core.platform.Platform("amd64", List.of("avx512f", "avx2"), "1.28.0"));
    assertThat(m.configHash()).isEqualTo(ctx.configHash());
    // hash sharding: every chunk of a document in one shard
    Map<String, Integer> shardOfDoc = new HashMap<>();
    for (IndexVersion.Shard sh : v.shards()) {
      for (int i = 0; i < sh.table().size(); i++) {
        ChunkTableFile.Row r = sh.table().row(i);
        assertThat(shardOfDoc.putIfAbsent(r.docId(), sh.id())).isIn(null, sh.id());
        if (i > 0) {
          assertThat(r.chunkId()).isGreaterThan(sh.table().chunkId(i - 1));
        }
      }
    }
    try (Bm25Index bm25 = Bm25Index.open(v.dir(), m)) {
      HybridSearcher hs = new HybridSearcher(v, q -> vectors.get(q), bm25, null);
      // dense + exact re-score: a chunk's own (unit) vector is its best match
      for (String cid : List.of("d3#1", "d17#0", "d39#2")) {
        HybridSearcher.Result r = hs.search(new HybridSearcher.Request(cid, SearchOptions.builder().k(5)
            .mode(SearchOptions.Mode.RESCORE).nprobe(4).depth(120).rescoreDepth(120).build()));
        assertThat(r.hits().get(0).chunkId()).isEqualTo(cid);
        assertThat(r.hits().get(0).stageScore(HybridSearcher.RESCORE)).isCloseTo(1f, org.assertj.core.api.Assertions.within(1e-5f));
      }
      HybridSearcher lex = new HybridSearcher(v, null, bm25, null);
      HybridSearcher.Result r = lex.search(new HybridSearcher.Request("unique7x2 documents", SearchOptions.builder()
          .k(3).mode(SearchOptions.Mode.BM25).depth(10).rescoreDepth(0).build()));
      HybridSearcher.Hit top = r.hits().get(0);
      assertThat(top.chunkId()).isEqualTo("d7#2");
      assertThat(top.docId()).isEqualTo("d7");
      assertThat(top.startChar()).isEqualTo(200);
      assertThat(top.text()).contains("unique7x2");
      assertThat(top.stages().get(HybridSearcher.BM25).rank()).isEqualTo(1);
    }

    // a re-run never touches the published version: new version id, same bytes for Quarry's own files
    JobSummary s2 = new BuildIndexJob().run(ctx);
    String v2 = (String) s2.get("version");
    assertThat(v2).isEqualTo(version + "-r2");
    for (String f : List.of("lists.ivf", "chunks.tbl", "vectors.bin")) {
      for (int sh = 0; sh < 3; sh++) {
        Path a = index.resolve(version).resolve(IndexManifest.shardDir(sh)).resolve(f);
        Path b = index.resolve(v2).resolve(IndexManifest.shardDir(sh)).resolve(f);
        assertThat(Files.readAllBytes(a)).as(f).isEqualTo(Files.readAllBytes(b));
      }
    }

    // corruption is detected and named
    Path victim = index.resolve(v2).resolve("shard-00001/lists.ivf");
    try (RandomAccessFile raf = new RandomAccessFile(victim.toFile(), "rw")) {
      raf.seek(40);
      int b = raf.read();
      raf.seek(40);
      raf.write(b ^ 1);
    }
    assertThatThrownBy(() -> PublishedIndex.validate(index.resolve(v2)))
        .isInstanceOf(CorruptIndexFileException.class).hasMessageContaining(victim.toString());
  }

  @Test
  void ivfShardingRoutesQueriesToOwningShards() throws Exception {
    Path work = tmp.resolve("ivf");
    Map<String, float[]> vectors = writeInputs(work, false);
    JobContext ctx = ctx(work, "segments.shards=2", "segments.sharding=ivf", "segments.rescore=sq8",
        "segments.version=ivf-test", "segments.publish=false");
    JobSummary s = new BuildIndexJob().run(ctx);
    assertThat(s.get("version")).isEqualTo("ivf-test");
    assertThat(Files.exists(work.resolve("index/CURRENT"))).isFalse();
    IndexVersion v = IndexVersion.open(work.resolve("index/ivf-test"), true);
    assertThat(v.shards().get(0).listFrom()).isZero();
    assertThat(v.shards().get(0).listTo()).isEqualTo(v.shards().get(1).listFrom());
    assertThat(v.shards().get(1).listTo()).isEqualTo(4);
    for (IndexVersion.Shard sh : v.shards()) {
      for (int l = 0; l < 4; l++) {
        if (l < sh.listFrom() || l >= sh.listTo()) {
          assertThat(sh.lists().size(l)).isZero();
        }
      }
    }
    float[] q = vectors.get("d5#0");
    assertThat(new HybridSearcher(v, null, null, null).dense().route(q, 1)).hasSize(1);
    assertThat(new HybridSearcher(v, null, null, null).dense().route(q, 4)).hasSize(2);
    HybridSearcher hs = new HybridSearcher(v, x -> vectors.get(x), null, null);
    HybridSearcher.Result r = hs.search(new HybridSearcher.Request("d5#0", SearchOptions.builder().k(3)
        .mode(SearchOptions.Mode.RESCORE).nprobe(4).depth(120).rescoreDepth(120).withText(false).build()));
    assertThat(r.hits().get(0).chunkId()).isEqualTo("d5#0");
    // a retry of the same build (same config, quantizer, model) reuses the complete version without rewriting it
    byte[] manifestBefore = Files.readAllBytes(work.resolve("index/ivf-test/manifest.json"));
    JobSummary again = new BuildIndexJob().run(ctx);
    assertThat(again.get("reused")).isEqualTo(true);
    assertThat(again.get("version")).isEqualTo("ivf-test");
    assertThat(Files.readAllBytes(work.resolve("index/ivf-test/manifest.json"))).isEqualTo(manifestBefore);
    // any other build under an existing explicit version is refused: published versions are immutable
    JobContext changed = ctx(work, "segments.shards=2", "segments.sharding=ivf", "segments.rescore=sq8",
        "segments.version=ivf-test", "segments.publish=false", "segments.bm25K1=1.2");
    assertThatThrownBy(() -> new BuildIndexJob().run(changed)).hasMessageContaining("already exists");

    // publish validates, then moves CURRENT; a corrupt version is refused and CURRENT stays
    JobSummary p = new PublishJob().run(ctx);
    assertThat(p.get("version")).isEqualTo("ivf-test");
    assertThat(Files.readString(work.resolve("index/CURRENT"))).isEqualTo("ivf-test\n");
    JobContext other = ctx(work, "segments.shards=2", "segments.version=ivf-bad", "segments.publish=false");
    new BuildIndexJob().run(other);
    Files.write(work.resolve("index/ivf-bad/shard-00000/chunks.tbl"), new byte[] {1, 2, 3});
    assertThatThrownBy(() -> new PublishJob().run(other)).isInstanceOf(CorruptIndexFileException.class)
        .hasMessageContaining("chunks.tbl");
    assertThat(Files.readString(work.resolve("index/CURRENT"))).isEqualTo("ivf-test\n");
    assertThat(new String(Files.readAllBytes(work.resolve("index/ivf-test/manifest.json")), StandardCharsets.UTF_8))
        .contains("\"sharding\" : \"ivf\"");
  }
}
