package io.quarry.embed;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.config.EmbeddingConfig;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every bundled model against reference vectors computed once by an independent implementation (Python
 * onnxruntime + tokenizers + numpy pooling: {@code src/test/python/make_reference_vectors.py}), one text per
 * batch as there: the int8 models quantize activations with one scale per batch tensor, so batching moves their
 * vectors slightly (see {@code EmbedderTest}).
 */
class EmbedderReferenceTest {
  private static final JsonNode REF = load();

  private static JsonNode load() {
    try (InputStream in = EmbedderReferenceTest.class.getResourceAsStream("reference-vectors.json")) {
      return new ObjectMapper().readTree(in);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @AfterAll
  static void release() {
    Embedder.closeAll();
  }

  @ParameterizedTest
  @ValueSource(strings = {"all-minilm-l6-v2", "all-minilm-l6-v2-q", "bge-small-en-v1.5", "bge-small-en-v1.5-q",
      "e5-small-v2", "e5-small-v2-q"})
  void matchesReferenceVectors(String model) {
    JsonNode m = REF.path("models").path(model);
    assertThat(m.isMissingNode()).as("reference for " + model).isFalse();
    try (Embedder e = Embedder.open(new EmbeddingConfig(model, "", 1, REF.path("maxSeqLength").asInt(), 1))) {
      assertThat(e.dim()).isEqualTo(384);
      assertThat(e.pooling().code()).isEqualTo(m.path("pooling").asText());
      List<String> texts = new ArrayList<>();
      for (JsonNode q : m.path("passages")) {
        // the reference "text" already carries the prefix; strip it to call the public API
        texts.add(q.path("text").asText().substring(e.spec().passagePrefix().length()));
      }
      int[] tokens = new int[texts.size()];
      float[][] passages = e.embedPassages(texts, tokens);
      float[][] queries = e.embedQueries(texts);
      for (int i = 0; i < texts.size(); i++) {
        assertThat(tokens[i]).as(model + " passage " + i + " tokens")
            .isEqualTo(m.path("passages").get(i).path("tokens").asInt());
        assertThat(cosine(passages[i], vector(m.path("passages").get(i))))
            .as(model + " passage " + i).isGreaterThanOrEqualTo(0.999);
        assertThat(cosine(queries[i], vector(m.path("queries").get(i))))
            .as(model + " query " + i).isGreaterThanOrEqualTo(0.999);
      }
    }
  }

  static float[] vector(JsonNode n) {
    JsonNode v = n.path("vector");
    float[] out = new float[v.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) v.get(i).asDouble();
    }
    return out;
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
