package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quarry.core.search.Candidates;
import io.quarry.core.search.FusionSpec;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.search.ScoredChunk;
import io.quarry.core.search.SearchOptions;
import io.quarry.core.search.fusion.ConvexCombination;
import io.quarry.core.search.fusion.Normalization;
import io.quarry.core.search.fusion.Rrf;
import io.quarry.core.segment.IndexVersion;
import io.quarry.lexical.Bm25Index;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hybrid search fuses after exact re-scoring: every candidate carries its exact dense and its BM25 score (also the
 * ones BM25 did not return), the fusion is the one requested, and its extremes reproduce the single signals.
 */
class HybridFusionTest {
  @TempDir Path tmp;

  @Test
  void everyCandidateHasBothExactScoresAndTheFusionDecidesTheOrder() throws Exception {
    Path v = TestIndexes.write(tmp.resolve("idx"), "v1", 60, 2, "float32");
    IndexVersion iv = IndexVersion.open(v, true);
    try (Bm25Index bm25 = Bm25Index.open(v, iv.manifest())) {
      var emb = TestIndexes.embedder();
      HybridSearcher hs = new HybridSearcher(iv, q -> emb.embedQueries(List.of(q))[0], bm25, null);
      String query = "stem cells differentiation in the brain";
      SearchOptions base = SearchOptions.builder().k(60).nprobe(2).depth(10).withText(false).build();

      Candidates c = hs.candidates(query, base);
      assertThat(c.size()).isGreaterThan(10); // the union of two top-10s that differ
      List<ScoredChunk> deepBm25 = bm25.search(query, 60);
      float[] q = emb.embedQueries(List.of(query))[0];
      boolean sawBm25Missing = false;
      for (int i = 0; i < c.size(); i++) {
        assertThat(c.score(HybridSearcher.DENSE, i)).isNotNaN();
        assertThat(c.score(HybridSearcher.BM25, i)).isNotNaN();
        // the exact dense score is the inner product with the stored float32 vector
        float[] x = new float[q.length];
        iv.shards().get(c.shard(i)).vectors().get(c.id(i), x);
        float dot = 0;
        for (int j = 0; j < x.length; j++) {
          dot += q[j] * x[j];
        }
        assertThat(c.score(HybridSearcher.DENSE, i)).isCloseTo(dot, within(1e-4f));
        // the BM25 score equals the one a deeper BM25 search gives (0 when no term matches)
        final int ii = i;
        float want = deepBm25.stream().filter(h -> h.shard() == c.shard(ii) && h.id() == c.id(ii))
            .map(ScoredChunk::score).findFirst().orElse(0f);
        assertThat(c.score(HybridSearcher.BM25, i)).isCloseTo(want, within(1e-4f));
        sawBm25Missing |= bm25.search(query, 10).stream().noneMatch(h -> h.shard() == c.shard(ii)
            && h.id() == c.id(ii));
      }
      assertThat(sawBm25Missing).isTrue();

      // alpha 1 / 0 of a convex combination: the exact-dense / BM25 orders of the same candidates
      List<String> dense = ids(hs, query, base, new FusionSpec(new ConvexCombination(Normalization.MINMAX, 1)));
      List<String> lex = ids(hs, query, base, new FusionSpec(new ConvexCombination(Normalization.MINMAX, 0)));
      List<String> mid = ids(hs, query, base, new FusionSpec(new ConvexCombination(Normalization.TMM, 0.5)));
      assertThat(dense).isEqualTo(chunkIds(iv, c.rankBy(HybridSearcher.DENSE)));
      assertThat(lex).isEqualTo(chunkIds(iv, c.rankBy(HybridSearcher.BM25)));
      assertThat(mid).isNotEqualTo(dense).isNotEqualTo(lex).containsExactlyInAnyOrderElementsOf(dense);

      // the hit carries each stage's score; the final score is the fused one
      HybridSearcher.Result r = hs.search(new HybridSearcher.Request(query, base.toBuilder().k(5)
          .fusion(new FusionSpec(new Rrf(60))).build()));
      assertThat(r.options().fusion()).isEqualTo(new FusionSpec(new Rrf(60)));
      for (HybridSearcher.Hit h : r.hits()) {
        assertThat(h.stages()).containsKeys(HybridSearcher.BM25, HybridSearcher.RESCORE, HybridSearcher.HYBRID);
        assertThat(h.score()).isEqualTo(h.stageScore(HybridSearcher.HYBRID));
        int rb = h.stages().get(HybridSearcher.BM25).rank();
        int rd = h.stages().get(HybridSearcher.RESCORE).rank();
        assertThat(h.score()).isCloseTo((float) (1.0 / (60 + rb) + 1.0 / (60 + rd)), within(1e-6f));
      }
      // the index's default when the request names no fusion (this version is untuned: the built-in default)
      assertThat(hs.search(HybridSearcher.Request.of(query, 3)).options().fusion()).isEqualTo(FusionSpec.DEFAULT);
    }
  }

  static List<String> ids(HybridSearcher hs, String q, SearchOptions base, FusionSpec f) throws Exception {
    return hs.search(new HybridSearcher.Request(q, base.toBuilder().fusion(f).build())).hits().stream()
        .map(HybridSearcher.Hit::chunkId).toList();
  }

  static List<String> chunkIds(IndexVersion v, List<ScoredChunk> ranking) {
    return ranking.stream().map(x -> v.shards().get(x.shard()).table().row(x.id()).chunkId()).toList();
  }
}
