package io.quarry.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cross-encoder with a tiny ONNX model generated here ({@link TinyOnnx}) and the bundled BERT tokenizer. */
class OnnxCrossEncoderTest {
  @TempDir Path tmp;

  @Test
  void scoresPairsAsTheModelDefines() throws Exception {
    Path dir = TinyOnnx.writeCrossEncoder(tmp.resolve("ce"));
    List<String> passages = List.of("Stem cells renew themselves.", "", "A much longer passage about tumor growth "
        + "and the NF-kappaB pathway in glioblastoma cells.");
    String query = "glioma stem cell survival";
    try (OnnxCrossEncoder ce = new OnnxCrossEncoder(dir, 128);
        HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"),
            Map.of("truncation", "true", "maxLength", "128"))) {
      float[] s = ce.score(query, passages);
      assertThat(s).hasSize(3);
      for (int i = 0; i < passages.size(); i++) {
        Encoding e = tok.encode(query, passages.get(i));
        float expected = 0;
        for (long id : e.getIds()) {
          expected += TinyOnnx.weight(id);
        }
        assertThat(s[i]).as("pair %d", i).isCloseTo(expected, within(1e-3f));
      }
      assertThat(ce.score(query, List.of())).isEmpty();
    }
  }

  @Test
  void missingFilesAreNamed() throws Exception {
    Path dir = tmp.resolve("empty");
    Files.createDirectories(dir);
    assertThatThrownBy(() -> new OnnxCrossEncoder(dir, 128)).hasMessageContaining("model.onnx");
  }

  @Test
  void aModelThatIsNotOnnxIsNamed() throws Exception {
    Path dir = TinyOnnx.writeCrossEncoder(tmp.resolve("bad"));
    Files.write(dir.resolve("model.onnx"), new byte[] {1, 2, 3});
    assertThatThrownBy(() -> new OnnxCrossEncoder(dir, 128)).hasMessageContaining("model.onnx")
        .hasMessageContaining("cannot load");
  }
}
