package io.quarry.jobs.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.chunk.Chunk;
import io.quarry.core.config.EmbeddingConfig;
import io.quarry.embed.Embedder;
import io.quarry.embed.ModelFiles;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.SparkTestSupport;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.avro.EmbeddingRecord;
import io.quarry.jobs.chunk.ChunkJob;
import io.quarry.jobs.chunk.ChunkJobTest;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chunk + embed on Spark local[2] with the bundled default model (bge-small-en-v1.5 int8). */
class EmbedJobTest {
  static final Path SAMPLES = Path.of("..", "data-samples").toAbsolutePath().normalize();
  static SparkSession spark;

  @TempDir Path tmp;

  @BeforeAll
  static void start() {
    spark = SparkTestSupport.localSpark("embed-test", 3);
  }

  @AfterAll
  static void stop() {
    spark.stop();
    Embedder.closeAll();
  }

  static JobContext ctx(Path work, String... overrides) {
    return SparkTestSupport.context(spark, work, overrides);
  }

  @Test
  void embedsTheSampleCorpus() throws Exception {
    JobContext c = ctx(tmp.resolve("w"), "input.corpus=" + SAMPLES.resolve("scifact/corpus.jsonl"));
    JobSummary cs = new ChunkJob().run(c);
    Embedder.closeAll();
    JobSummary es = new EmbedJob().run(c);
    assertThat(Embedder.loadedSessions()).as("driver and both task slots share one session").isEqualTo(1);
    assertThat(es.get("chunks")).isEqualTo(cs.get("chunks"));
    assertThat((Long) es.get("tokens")).isGreaterThan((Long) cs.get("tokens"));
    String dir = c.config().paths().embeddingsDir();

    // the way downstream stages read it: the Parquet files only (_model.json and _summary.json sit beside them)
    List<Row> rows = spark.read().option("pathGlobFilter", "*.parquet").parquet(dir).collectAsList();
    assertThat((long) rows.size()).isEqualTo(cs.get("chunks"));
    for (Row r : rows) {
      List<Float> v = r.getList(r.fieldIndex("vector"));
      assertThat(v).hasSize(384);
      double norm = 0;
      for (float x : v) {
        norm += x * x;
      }
      assertThat(Math.sqrt(norm)).isBetween(0.9999, 1.0001);
      assertThat(Chunk.docIdOf(r.getAs("chunk_id"))).isEqualTo(r.getAs("doc_id"));
    }
    JsonNode model = new ObjectMapper().readTree(Files.readString(Path.of(dir, "_model.json")));
    assertThat(model.get("modelId").asText()).isEqualTo("bge-small-en-v1.5-q");
    assertThat(model.get("dim").asInt()).isEqualTo(384);
    assertThat(model.get("pooling").asText()).isEqualTo("cls");
    assertThat(model.get("maxSeqLength").asInt()).isEqualTo(512);
    // where the vectors were computed: the executors' processor kind and ONNX Runtime (local mode: this JVM)
    assertThat(model.get("platforms")).hasSize(1);
    assertThat(new ObjectMapper().treeToValue(model.get("platforms").get(0), io.quarry.core.platform.Platform.class))
        .isEqualTo(io.quarry.embed.RuntimePlatform.current());
    assertThat(model.get("sha256").asText())
        .isEqualTo(ModelFiles.load(new EmbeddingConfig("bge-small-en-v1.5-q", "", 1, 512, 1)).sha256());

    // the job's vector of a chunk is the embedder's vector of "title\n\ntext" (up to int8 batch effects)
    Row chunk = spark.read().option("pathGlobFilter", "*.parquet").parquet(c.config().paths().chunksDir()).orderBy("chunk_id").first();
    Map<String, float[]> byId = new HashMap<>();
    for (Row r : rows) {
      List<Float> v = r.getList(r.fieldIndex("vector"));
      float[] a = new float[v.size()];
      for (int i = 0; i < a.length; i++) {
        a[i] = v.get(i);
      }
      byId.put(r.getAs("chunk_id"), a);
    }
    try (Embedder e = Embedder.open(c.config().embedding())) {
      float[] direct = e.embedPassages(List.of(Chunk.embeddingText(chunk.getAs("title"), chunk.getAs("text"),
          true)))[0];
      assertThat(cosine(direct, byId.get((String) chunk.getAs("chunk_id")))).isGreaterThan(0.99);
    }
  }

  @Test
  void deterministicAndCustomModelDirectoryMatchesTheBundledModel() throws Exception {
    String corpus = "input.corpus=" + SAMPLES.resolve("bad-inputs/corpus.jsonl");
    JobContext a = ctx(tmp.resolve("a"), corpus, "input.maxDocChars=2000");
    new ChunkJob().run(a);
    new EmbedJob().run(a);
    ChunkJobTest.assertConforms(Path.of(a.config().paths().embeddingsDir()), EmbeddingRecord.getClassSchema(), 3);

    Path modelDir = tmp.resolve("my-model");
    Files.createDirectories(modelDir);
    ModelFiles f = ModelFiles.load(a.config().embedding());
    Files.write(modelDir.resolve("model.onnx"), f.onnx());
    Files.write(modelDir.resolve("tokenizer.json"), f.tokenizerJson());
    Files.writeString(modelDir.resolve("quarry-model.json"), "{\"pooling\": \"cls\"}");
    JobContext b = ctx(tmp.resolve("b"), corpus, "input.maxDocChars=2000", "embedding.model=custom",
        "embedding.modelPath=file://" + modelDir);
    new ChunkJob().run(b);
    JobSummary s = new EmbedJob().run(b);
    assertThat(s.get("model")).isEqualTo("custom:my-model");
    assertThat(s.get("sha256")).isEqualTo(f.sha256());
    assertThat(ChunkJobTest.partContents(Path.of(b.config().paths().embeddingsDir())))
        .isEqualTo(ChunkJobTest.partContents(Path.of(a.config().paths().embeddingsDir())));
  }

  /** Set by the test's driver thread once it saw the running task's count; the task (same JVM) waits for it. */
  static final java.util.concurrent.atomic.AtomicBoolean SEEN = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Issue 14: progress moves while a task runs, not only when it ends. One task adds 5 to the progress counter and
   * then waits (up to 60 s) until the driver's {@link io.quarry.jobs.chunk.Progress#live()} shows those 5, which it
   * can only learn from an executor heartbeat since the task has not ended.
   */
  @Test
  void progressSeesUnitsOfARunningTaskFromHeartbeats() throws Exception {
    SEEN.set(false);
    org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("progress-test");
    try (io.quarry.jobs.chunk.Progress p = new io.quarry.jobs.chunk.Progress(spark.sparkContext(), log, "test",
        "units", 5, null, 1)) {
      org.apache.spark.util.LongAccumulator acc = p.done();
      var job = org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext())
          .parallelize(List.of(1), 1).map(x -> {
            acc.add(5);
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!SEEN.get() && System.nanoTime() < deadline) {
              Thread.sleep(50);
            }
            return x;
          }).collectAsync();
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (p.live() < 5 && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      boolean runningWhenSeen = !job.isDone();
      long seen = p.live();
      SEEN.set(true);
      job.get();
      assertThat(seen).isEqualTo(5);
      assertThat(runningWhenSeen).as("seen while the task still ran").isTrue();
      assertThat(acc.value()).isEqualTo(5L);
      assertThat(p.live()).isEqualTo(5L); // the finished task counted once
    }
  }

  @Test
  void missingChunksOrModelFailFast() throws Exception {
    JobContext c = ctx(tmp.resolve("none"));
    assertThatThrownBy(() -> new EmbedJob().run(c)).isInstanceOf(FileNotFoundException.class)
        .hasMessageContaining("paths.chunks");
    JobContext d = ctx(tmp.resolve("w"), "input.corpus=" + SAMPLES.resolve("bad-inputs/corpus.jsonl"));
    new ChunkJob().run(d);
    JobContext e = ctx(tmp.resolve("w"), "embedding.model=custom", "embedding.modelPath=" + tmp.resolve("gone"));
    assertThatThrownBy(() -> new EmbedJob().run(e)).hasMessageContaining("embedding.modelPath")
        .hasMessageContaining("gone");
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
