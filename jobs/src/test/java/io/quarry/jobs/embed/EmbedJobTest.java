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
import io.quarry.jobs.SparkTest;
import io.quarry.jobs.SparkTestSupport;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.avro.EmbeddingRecord;
import io.quarry.jobs.chunk.ChunkJob;
import io.quarry.jobs.chunk.ChunkJobTest;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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
@SparkTest
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
    SparkTestSupport.release(spark);
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

  /**
   * Issue 26: a bundled model whose jar is not on the classpath (only the default is, in the jobs jar) is resolved by
   * id on the driver (local Maven repository, cache or Maven Central) and shipped to the executors as a file.
   */
  @Test
  void aNonDefaultBundledModelIsResolvedByIdAndShippedToTheExecutors() throws Exception {
    io.quarry.embed.ModelSpec spec = io.quarry.embed.ModelSpec.bundled("all-minilm-l6-v2-q").orElseThrow();
    assertThat(ModelFiles.onClasspath(spec)).as("precondition: not on the jobs classpath").isFalse();
    JobContext c = ctx(tmp.resolve("w"), "input.corpus=" + reuseCorpus(tmp, false),
        "embedding.model=all-minilm-l6-v2-q");
    new ChunkJob().run(c);
    JobSummary s = new EmbedJob().run(c);

    Path jar = io.quarry.embed.ModelResolver.fromEnvironment().resolve(spec);
    assertThat(scala.jdk.javaapi.CollectionConverters.asJava(spark.sparkContext().listFiles()))
        .anyMatch(f -> f.endsWith("/" + jar.getFileName()));
    ModelFiles files = ModelFiles.load(new EmbeddingConfig(spec.id(), jar.toString(), 1, 512, 1));
    JsonNode model = new ObjectMapper().readTree(Files.readString(Path.of(c.config().paths().embeddingsDir(),
        "_model.json")));
    assertThat(model.get("modelId").asText()).isEqualTo("all-minilm-l6-v2-q");
    assertThat(model.get("pooling").asText()).isEqualTo("mean");
    assertThat(model.get("sha256").asText()).isEqualTo(files.sha256()).isEqualTo(s.get("sha256"));
    assertThat(s.get("chunks")).isEqualTo(6L);
    Map<String, float[]> v = vectors(c.config().paths().embeddingsDir());
    try (Embedder e = Embedder.open(new EmbeddingConfig(spec.id(), jar.toString(), 8, 512, 1))) {
      float[] direct = e.embedPassages(List.of(Chunk.embeddingText("Aspirin",
          "Aspirin irreversibly inhibits cyclooxygenase and lowers the synthesis of thromboxane.", true)))[0];
      assertThat(cosine(direct, v.get("d1#0"))).isGreaterThan(0.99);
    }
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

    // a reuseFrom path that does not exist: fails before the model is loaded or anything is written
    Embedder.closeAll();
    JobContext f = ctx(tmp.resolve("w"), "embedding.reuseFrom=" + tmp.resolve("no-such-embeddings"));
    assertThatThrownBy(() -> new EmbedJob().run(f)).isInstanceOf(FileNotFoundException.class)
        .hasMessageContaining("embedding.reuseFrom").hasMessageContaining("no-such-embeddings");
    assertThat(Embedder.loadedSessions()).isZero();
    assertThat(Path.of(f.config().paths().embeddingsDir())).doesNotExist();
    // in a pipeline, before the chunk stage runs
    JobContext g = ctx(tmp.resolve("p"), "input.corpus=" + SAMPLES.resolve("bad-inputs/corpus.jsonl"),
        "embedding.reuseFrom=" + tmp.resolve("no-such-embeddings"));
    assertThatThrownBy(() -> io.quarry.jobs.QuarryCli.runAll(g, List.of(new ChunkJob(), new EmbedJob())))
        .isInstanceOf(FileNotFoundException.class).hasMessageContaining("embedding.reuseFrom");
    assertThat(tmp.resolve("p")).doesNotExist();
  }

  /** Six one-chunk documents; {@code edit} replaces d2's text, drops d6 and adds d7. */
  static Path reuseCorpus(Path dir, boolean edit) throws Exception {
    String[][] docs = {
        {"d1", "Aspirin", "Aspirin irreversibly inhibits cyclooxygenase and lowers the synthesis of thromboxane."},
        {"d2", "Vitamin D", edit ? "Vitamin D deficiency was not associated with fracture risk in older adults."
            : "Vitamin D supplementation reduced the risk of falls in nursing home residents."},
        {"d3", "Statins", "Statins lower LDL cholesterol by inhibiting HMG-CoA reductase in the liver."},
        {"d4", "Insulin", "Insulin resistance precedes the onset of type 2 diabetes by several years."},
        {"d5", "Sleep", "Short sleep duration is linked to higher body mass index in children."},
        {"d6", "Coffee", "Coffee consumption showed no association with atrial fibrillation."},
        {"d7", "Exercise", "Aerobic exercise improved memory scores in adults with mild cognitive impairment."}};
    StringBuilder sb = new StringBuilder();
    for (String[] d : docs) {
      if (edit ? d[0].equals("d6") : d[0].equals("d7")) {
        continue;
      }
      sb.append(new ObjectMapper().writeValueAsString(Map.of("_id", d[0], "title", d[1], "text", d[2])))
          .append('\n');
    }
    Files.createDirectories(dir);
    Path p = dir.resolve(edit ? "corpus-v2.jsonl" : "corpus-v1.jsonl");
    Files.writeString(p, sb.toString());
    return p;
  }

  static Map<String, float[]> vectors(String dir) {
    Map<String, float[]> byId = new HashMap<>();
    for (Row r : spark.read().option("pathGlobFilter", "*.parquet").parquet(dir).collectAsList()) {
      List<Float> v = r.getList(r.fieldIndex("vector"));
      float[] a = new float[v.size()];
      for (int i = 0; i < a.length; i++) {
        a[i] = v.get(i);
      }
      byId.put(r.getAs("chunk_id"), a);
      assertThat((String) r.getAs("reuse_key")).as("every row carries its reuse key").matches("[0-9a-f]{64}");
    }
    return byId;
  }

  @Test
  void reusesTheVectorsOfUnchangedChunksAndEmbedsOnlyTheRest() throws Exception {
    Path work = tmp.resolve("w");
    JobContext first = ctx(work, "input.corpus=" + reuseCorpus(tmp, false), "embedding.reuseFrom=auto");
    new ChunkJob().run(first);
    JobSummary s1 = new EmbedJob().run(first);
    assertThat(s1.get("reuse").toString()).startsWith("none: auto:").contains("first run");
    assertThat(s1.values()).containsEntry("chunks", 6L).containsEntry("reused", 0L).containsEntry("computed", 6L)
        .containsEntry("dropped", 0L);
    String out = first.config().paths().embeddingsDir();
    Map<String, float[]> v1 = vectors(out);

    // d2 changed, d6 removed, d7 added; the same paths.embeddings, reused in place (auto)
    JobContext second = ctx(work, "input.corpus=" + reuseCorpus(tmp, true), "embedding.reuseFrom=auto");
    new ChunkJob().run(second);
    JobSummary s2 = new EmbedJob().run(second);
    assertThat(s2.get("reuse")).isEqualTo("used");
    assertThat(s2.values()).containsEntry("chunks", 6L).containsEntry("reused", 4L).containsEntry("computed", 2L)
        .containsEntry("previousRows", 6L).containsEntry("dropped", 2L); // old d2 and d6
    Map<String, float[]> v2 = vectors(out);
    assertThat(v2.keySet()).containsExactlyInAnyOrder("d1#0", "d2#0", "d3#0", "d4#0", "d5#0", "d7#0");
    for (String id : List.of("d1#0", "d3#0", "d4#0", "d5#0")) {
      // exact float equality (bit patterns): the stored vector is copied, not recomputed in another batch
      assertThat(Arrays.equals(v2.get(id), v1.get(id))).as("reused %s byte-identical", id).isTrue();
    }
    assertThat(Arrays.equals(v2.get("d2#0"), v1.get("d2#0"))).as("changed d2 re-embedded").isFalse();
    // The new vectors are a fresh embedding of their text: compared with the embedder's vector of the text alone
    // (a batch of one), cosine >= 0.99, since the int8 model quantizes activations with one scale per batch and
    // the job embeds d2 and d7 together; for a changed text the cosine to its old vector is far lower.
    Map<String, Row> chunks = new HashMap<>();
    for (Row r : spark.read().option("pathGlobFilter", "*.parquet").parquet(second.config().paths().chunksDir())
        .collectAsList()) {
      chunks.put(r.getAs("chunk_id"), r);
    }
    try (Embedder e = Embedder.open(second.config().embedding())) {
      for (String id : List.of("d2#0", "d7#0")) {
        Row c = chunks.get(id);
        float[] fresh = e.embedPassages(List.of(Chunk.embeddingText(c.getAs("title"), c.getAs("text"), true)))[0];
        assertThat(cosine(fresh, v2.get(id))).as(id).isGreaterThanOrEqualTo(0.99);
      }
    }
    assertThat(cosine(v1.get("d2#0"), v2.get("d2#0"))).isLessThan(0.99);
    assertThat(Path.of(out + ".staging")).as("staging swapped in").doesNotExist();
    assertThat(Path.of(out, "_model.json")).exists();
    ChunkJobTest.assertConforms(Path.of(out), EmbeddingRecord.getClassSchema(), 6);

    // nothing changed: every vector reused, and the part files are byte-identical to the previous run's
    List<String> parts = ChunkJobTest.partContents(Path.of(out));
    JobSummary s3 = new EmbedJob().run(second);
    assertThat(s3.values()).containsEntry("reused", 6L).containsEntry("computed", 0L).containsEntry("dropped", 0L);
    assertThat(ChunkJobTest.partContents(Path.of(out))).isEqualTo(parts);
  }

  @Test
  void noReuseFromAnotherModelOrADatasetWithoutKeys() throws Exception {
    Path work = tmp.resolve("w");
    JobContext c = ctx(work, "input.corpus=" + reuseCorpus(tmp, false));
    new ChunkJob().run(c);
    new EmbedJob().run(c);
    String out = c.config().paths().embeddingsDir();
    Map<String, float[]> v1 = vectors(out);

    // the same vectors, but _model.json says another model wrote them (as another model's dataset would)
    Path other = tmp.resolve("other-model");
    spark.read().option("pathGlobFilter", "*.parquet").parquet(out).write().parquet(other.toString());
    String model = Files.readString(Path.of(out, "_model.json"));
    String sha = new ObjectMapper().readTree(model).get("sha256").asText();
    Files.writeString(other.resolve("_model.json"), model.replace(sha, "0".repeat(64))
        .replace("bge-small-en-v1.5-q", "all-minilm-l6-v2-q"));
    // an older run's dataset: the right model, no reuse_key column
    Path legacy = tmp.resolve("legacy");
    spark.read().option("pathGlobFilter", "*.parquet").parquet(out).drop("reuse_key").write()
        .parquet(legacy.toString());
    Files.writeString(legacy.resolve("_model.json"), model);

    for (Path prev : List.of(other, legacy)) {
      JobSummary s = new EmbedJob().run(ctx(work, "input.corpus=" + reuseCorpus(tmp, false),
          "embedding.reuseFrom=" + prev));
      assertThat(s.get("reuse").toString()).startsWith("none: ")
          .contains(prev == other ? "is not the current model" : "no reuse_key column");
      assertThat(s.values()).containsEntry("reused", 0L).containsEntry("computed", 6L)
          .containsEntry("previousRows", 6L).containsEntry("dropped", 6L);
      assertThat(vectors(out)).hasSize(6);
    }
    // recomputed from scratch with the same data and config: the same vectors as the first run
    Map<String, float[]> v2 = vectors(out);
    for (Map.Entry<String, float[]> en : v1.entrySet()) {
      assertThat(Arrays.equals(v2.get(en.getKey()), en.getValue())).isTrue();
    }
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
