package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quarry.core.search.HybridSearcher;
import io.quarry.core.search.SearchOptions;
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
      SearchOptions base = SearchOptions.builder().k(5).nprobe(4).depth(20).rescoreDepth(10).rerank(true).build();
      HybridSearcher.Result r = hs.search(new HybridSearcher.Request("cancer cells", base));
      assertThat(r.hits()).hasSize(5);
      assertThat(r.stageNanos()).containsKey(HybridSearcher.CROSS_ENCODER);
      for (int i = 0; i < 5; i++) {
        HybridSearcher.Hit h = r.hits().get(i);
        assertThat(h.stages().get(HybridSearcher.CROSS_ENCODER).rank()).isEqualTo(i + 1);
        assertThat(h.score()).isEqualTo(h.stageScore(HybridSearcher.CROSS_ENCODER));
        assertThat(h.stageScore(HybridSearcher.CROSS_ENCODER)).isCloseTo(ce.score("cancer cells", List.of(h.text()))[0], within(1e-3f));
      }

      // rerankDepth 3: only the fused top 3 are cross-encoded, the rest follow in fused order
      HybridSearcher.Result r3 = hs.search(new HybridSearcher.Request("cancer cells",
          base.toBuilder().k(8).rerankDepth(3).build()));
      for (int i = 0; i < 8; i++) {
        HybridSearcher.Hit h = r3.hits().get(i);
        if (i > 0) { // one scale down the list: the exact-scored tail is placed below the cross-encoded top
          assertThat(h.score()).isLessThanOrEqualTo(r3.hits().get(i - 1).score());
        }
        if (i < 3) {
          assertThat(h.stages().get(HybridSearcher.CROSS_ENCODER).rank()).isEqualTo(i + 1);
        } else {
          assertThat(h.stageScore(HybridSearcher.CROSS_ENCODER)).isNull();
          assertThat(h.stages()).containsKeys(HybridSearcher.HYBRID, HybridSearcher.RESCORE, HybridSearcher.BM25);
        }
      }
    }
  }
}
