package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quarry.core.search.HybridSearcher;
import io.quarry.core.segment.IndexVersion;
import io.quarry.embed.OnnxCrossEncoder;
import io.quarry.embed.TinyOnnx;
import io.quarry.lexical.Bm25Index;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cross-encoder as the last search stage, with the tiny generated ONNX model. */
class RerankStageTest {
  @TempDir Path tmp;

  @Test
  void topHitsComeOutInCrossEncoderOrderAndOnlyRerankDepthIsScored() throws Exception {
    Path v = TestIndexes.write(tmp.resolve("idx"), "v1", 40, 2, "float32");
    IndexVersion iv = IndexVersion.open(v, true);
    try (OnnxCrossEncoder ce = new OnnxCrossEncoder(TinyOnnx.writeCrossEncoder(tmp.resolve("ce")), 128);
        Bm25Index bm25 = Bm25Index.open(v, iv.manifest())) {
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

      // rerankDepth 3: only the re-scored top 3 are cross-encoded, the rest follow in re-scored order
      HybridSearcher.Result r3 = hs.search(new HybridSearcher.Request("cancer cells", 8,
          HybridSearcher.Mode.HYBRID, 4, 20, 20, 10, true, 3, 60, true));
      for (int i = 0; i < 8; i++) {
        HybridSearcher.Hit h = r3.hits().get(i);
        if (i > 0) { // one scale down the list: the exact-scored tail is placed below the cross-encoded top
          assertThat(h.score()).isLessThanOrEqualTo(r3.hits().get(i - 1).score());
        }
        if (i < 3) {
          assertThat(h.rerankRank()).isEqualTo(i + 1);
        } else {
          assertThat(h.rerankScore()).isNull();
          assertThat(h.exactRank()).isNotNull();
        }
      }
    }
  }
}
