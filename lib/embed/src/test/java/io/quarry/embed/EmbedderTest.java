package io.quarry.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.config.EmbeddingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Query/passage conventions, batching, normalization, the per-JVM session cache and failures. */
class EmbedderTest {
  private static final String BGE_INSTRUCTION = "Represent this sentence for searching relevant passages: ";

  @AfterAll
  static void release() {
    Embedder.closeAll();
  }

  static EmbeddingConfig cfg(String model, int batch) {
    return new EmbeddingConfig(model, "", batch, 512, 1);
  }

  @Test
  void bgeQueriesCarryTheInstructionAndPassagesNothing() {
    try (Embedder e = Embedder.open(cfg("bge-small-en-v1.5-q", 8))) {
      assertThat(e.modelId()).isEqualTo("bge-small-en-v1.5-q");
      assertThat(e.modelSha256()).matches("[0-9a-f]{64}");
      String q = "does aspirin prevent heart attacks";
      float[] query = e.embedQueries(List.of(q))[0];
      float[] passage = e.embedPassages(List.of(q))[0];
      float[] passageWithInstruction = e.embedPassages(List.of(BGE_INSTRUCTION + q))[0];
      assertThat(EmbedderReferenceTest.cosine(query, passageWithInstruction)).isGreaterThan(0.99999);
      assertThat(EmbedderReferenceTest.cosine(query, passage)).isLessThan(0.99);
    }
  }

  @Test
  void e5QueriesAndPassagesCarryTheirPrefixes() {
    try (Embedder e = Embedder.open(cfg("e5-small-v2-q", 8))) {
      assertThat(e.pooling()).isEqualTo(Pooling.MEAN);
      String t = "insulin resistance in type 2 diabetes";
      float[] query = e.embedQueries(List.of(t))[0];
      float[] passage = e.embedPassages(List.of(t))[0];
      // "passage: query: x" is not "query: x": compare against the raw embedding through a prefix-free custom spec
      assertThat(EmbedderReferenceTest.cosine(query, passage)).isLessThan(0.995);
      assertThat(e.spec().queryPrefix()).isEqualTo("query: ");
      assertThat(e.spec().passagePrefix()).isEqualTo("passage: ");
    }
  }

  @Test
  void miniLmUsesNoPrefixAndMeanPooling() {
    try (Embedder e = Embedder.open(cfg("all-minilm-l6-v2-q", 8))) {
      String t = "gene expression in yeast";
      assertThat(EmbedderReferenceTest.cosine(e.embedQueries(List.of(t))[0], e.embedPassages(List.of(t))[0]))
          .isGreaterThan(0.99999);
      assertThat(e.pooling()).isEqualTo(Pooling.MEAN);
    }
  }

  @Test
  void batchingAndLengthSortingDoNotChangeVectors() {
    List<String> texts = List.of("short", "a somewhat longer passage about the immune system and T cells",
        "mid length text on RNA", "x", "the quick brown fox jumps over the lazy dog near the river bank today");
    // fp32 model: batching is exact up to float rounding. (The int8 models quantize activations dynamically with
    // one scale per batch tensor, so their vectors move slightly with the batch's content: see below.)
    try (Embedder one = Embedder.open(cfg("bge-small-en-v1.5", 1));
        Embedder many = Embedder.open(cfg("bge-small-en-v1.5", 3))) {
      assertThat(Embedder.loadedSessions()).as("one session per model per JVM").isGreaterThanOrEqualTo(1);
      float[][] a = one.embedPassages(texts);
      float[][] b = many.embedPassages(texts);
      for (int i = 0; i < texts.size(); i++) {
        float[] single = one.embedPassages(List.of(texts.get(i)))[0];
        assertThat(EmbedderReferenceTest.cosine(a[i], b[i])).isGreaterThan(0.9999);
        assertThat(EmbedderReferenceTest.cosine(single, b[i])).isGreaterThan(0.9999);
        double norm = 0;
        for (float x : b[i]) {
          norm += x * x;
        }
        assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
      }
    }
  }

  @Test
  void int8ModelsMoveOnlySlightlyWithBatchComposition() {
    List<String> texts = List.of("short", "a somewhat longer passage about the immune system and T cells", "x");
    try (Embedder one = Embedder.open(cfg("bge-small-en-v1.5-q", 1));
        Embedder many = Embedder.open(cfg("bge-small-en-v1.5-q", 3))) {
      float[][] b = many.embedPassages(texts);
      float[][] again = many.embedPassages(texts);
      for (int i = 0; i < texts.size(); i++) {
        assertThat(again[i]).as("same batches give identical vectors").isEqualTo(b[i]);
        float[] single = one.embedPassages(List.of(texts.get(i)))[0];
        assertThat(EmbedderReferenceTest.cosine(single, b[i])).isGreaterThan(0.99);
      }
    }
  }

  @Test
  void sameConfigSharesOneSession() {
    Embedder.closeAll();
    try (Embedder a = Embedder.open(cfg("bge-small-en-v1.5-q", 4));
        Embedder b = Embedder.open(cfg("bge-small-en-v1.5-q", 16))) {
      assertThat(Embedder.loadedSessions()).isEqualTo(1);
      assertThat(a.modelSha256()).isEqualTo(b.modelSha256());
    }
  }

  @Test
  void truncatesToMaxSeqLength() {
    String longText = "word ".repeat(1000);
    try (Embedder e = Embedder.open(new EmbeddingConfig("all-minilm-l6-v2-q", "", 4, 300, 1))) {
      int[] tokens = new int[1];
      e.embedPassages(List.of(longText), tokens);
      assertThat(tokens[0]).isEqualTo(300); // not MiniLM's baked-in 128
    }
  }

  @Test
  void configKnowsExactlyTheBundledModels() {
    assertThat(EmbeddingConfig.BUNDLED_MODELS)
        .containsExactlyInAnyOrderElementsOf(ModelSpec.BUNDLED.stream().map(ModelSpec::id).toList());
    // the dimensions validate-config checks index specs against are the models' (those on the test classpath)
    int checked = 0;
    for (ModelSpec m : ModelSpec.BUNDLED) {
      if (ModelSpec.class.getClassLoader().getResource(m.onnxResource()) == null) {
        continue; // only some bundled models' jars are test dependencies
      }
      try (Embedder e = Embedder.open(new EmbeddingConfig(m.id(), "", 4, 128, 1))) {
        assertThat(e.dim()).as(m.id()).isEqualTo(EmbeddingConfig.BUNDLED_MODEL_DIMS.get(m.id()));
        checked++;
      }
    }
    assertThat(checked).isPositive();
  }

  @Test
  void unknownModelFailsNamingIt() {
    assertThatThrownBy(() -> Embedder.open(cfg("no-such-model", 4)))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("no-such-model")
        .hasMessageContaining("bge-small-en-v1.5-q");
  }

  @Test
  void unreadableCustomModelFailsNamingTheFile(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("model.onnx"), "not an onnx model");
    Files.write(dir.resolve("tokenizer.json"), ModelFiles.loadTokenizerJson(cfg("bge-small-en-v1.5-q", 1)));
    assertThatThrownBy(() -> Embedder.open(new EmbeddingConfig("custom", dir.toString(), 4, 128, 1)))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("custom:" + dir.getFileName());
    assertThatThrownBy(() -> Embedder.open(new EmbeddingConfig("custom", dir.resolve("nope").toString(), 4, 128, 1)))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("nope");
  }

  @Test
  void customModelDirectoryWorksLikeTheBundledOne(@TempDir Path dir) throws Exception {
    ModelFiles f = ModelFiles.load(cfg("bge-small-en-v1.5-q", 1));
    Files.write(dir.resolve("model.onnx"), f.onnx());
    Files.write(dir.resolve("tokenizer.json"), f.tokenizerJson());
    Files.writeString(dir.resolve("quarry-model.json"), "{\"pooling\": \"cls\", \"queryPrefix\": \""
        + BGE_INSTRUCTION + "\"}");
    try (Embedder bundled = Embedder.open(cfg("bge-small-en-v1.5-q", 4));
        Embedder custom = Embedder.open(new EmbeddingConfig("custom", dir.toString(), 4, 512, 1))) {
      assertThat(custom.modelSha256()).isEqualTo(bundled.modelSha256());
      List<String> t = List.of("what causes anemia");
      assertThat(EmbedderReferenceTest.cosine(custom.embedQueries(t)[0], bundled.embedQueries(t)[0]))
          .isGreaterThan(0.99999);
    }
  }
}
