package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.segment.IndexVersion;
import io.quarry.lexical.Bm25Index;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cross-encoder stage with a tiny ONNX model generated here and the bundled BERT tokenizer. */
class OnnxCrossEncoderTest {
  @TempDir Path tmp;

  static float weight(long id) {
    return ((id * 2654435761L) % 1000) / 1000f - 0.3f;
  }

  Path modelDir() throws Exception {
    Path dir = tmp.resolve("ce");
    Files.createDirectories(dir);
    try (InputStream in = OnnxCrossEncoderTest.class.getResourceAsStream("/bge-small-en-v1.5-q-tokenizer.json")) {
      Files.copy(in, dir.resolve("tokenizer.json"));
    }
    float[] w = new float[30522];
    for (int i = 0; i < w.length; i++) {
      w[i] = weight(i);
    }
    Files.write(dir.resolve("model.onnx"), TinyOnnx.model(w));
    return dir;
  }

  @Test
  void scoresPairsAsTheModelDefinesAndReranksHits() throws Exception {
    Path dir = modelDir();
    List<String> passages = List.of("Stem cells renew themselves.", "", "A much longer passage about tumor growth "
        + "and the NF-kappaB pathway in glioblastoma cells.");
    String query = "glioma stem cell survival";
    try (OnnxCrossEncoder ce = new OnnxCrossEncoder(dir, 128);
        HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"),
            Map.of("truncation", "true", "maxLength", "128"))) {
      float[] s = ce.score(query, passages);
      for (int i = 0; i < passages.size(); i++) {
        Encoding e = tok.encode(query, passages.get(i));
        float expected = 0;
        for (long id : e.getIds()) {
          expected += weight(id);
        }
        assertThat(s[i]).as("pair %d", i).isCloseTo(expected, within(1e-3f));
      }

      // as the last stage of a search: the top hits come out ordered by the cross-encoder's score
      Path root = tmp.resolve("idx");
      Path v = TestIndexes.write(root, "v1", 40, 2, "float32");
      IndexVersion iv = IndexVersion.open(v, true);
      try (Bm25Index bm25 = Bm25Index.open(v, iv.manifest())) {
        var emb = TestIndexes.embedder();
        HybridSearcher hs = new HybridSearcher(iv, q -> emb.embedQueries(List.of(q))[0], bm25, ce);
        HybridSearcher.Result r = hs.search(new HybridSearcher.Request("cancer cells", 5,
            HybridSearcher.Mode.HYBRID, 4, 20, 20, 10, true, 60, true));
        assertThat(r.hits()).hasSize(5);
        assertThat(r.stageNanos()).containsKey("rerank");
        for (int i = 0; i < 5; i++) {
          HybridSearcher.Hit h = r.hits().get(i);
          assertThat(h.rerankRank()).isEqualTo(i + 1);
          assertThat(h.score()).isEqualTo(h.rerankScore());
          assertThat(h.rerankScore()).isCloseTo(ce.score("cancer cells", List.of(h.text()))[0], within(1e-3f));
        }
      }
    }
  }

  @Test
  void missingFilesAreNamed() throws Exception {
    Path dir = tmp.resolve("empty");
    Files.createDirectories(dir);
    assertThatThrownBy(() -> new OnnxCrossEncoder(dir, 128)).hasMessageContaining("model.onnx");
  }
}
