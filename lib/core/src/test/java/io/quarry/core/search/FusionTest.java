package io.quarry.core.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Fusion after exact re-scoring: the spec's text form and each fusion function's arithmetic, by hand. */
class FusionTest {
  static ScoredChunk c(int id, float s) {
    return new ScoredChunk(0, id, s);
  }

  /** ADC returned 1, 2, 3 (in that order); BM25 returned 3, 4. Exact dense and BM25 scores filled for all four. */
  static Candidates four() {
    Candidates c = Candidates.union(List.of(c(1, 0.9f), c(2, 0.8f), c(3, 0.7f)), List.of(c(3, 12f), c(4, 8f)), -1f);
    float[] dense = {0.5f, 0.9f, 0.3f, 0.1f}; // ids 1..4 in (shard, id) order
    float[] bm25 = {0f, 2f, 12f, 8f};
    for (int i = 0; i < 4; i++) {
      c.setDense(i, dense[i]);
      if (Float.isNaN(c.bm25(i))) {
        c.setBm25(i, bm25[i]);
      }
    }
    return c;
  }

  @Test
  void specTextRoundTripsAndRejectsBadValues() {
    for (String s : List.of("rrf:k=60", "wrrf:k=10,alpha=0.7", "convex:tmm,alpha=0.6", "convex:zscore,alpha=0.25",
        "convex:minmax,alpha=1.0")) {
      assertThat(FusionSpec.parse(s).toString()).isEqualTo(s);
      assertThat(FusionSpec.parse(FusionSpec.parse(s).toString())).isEqualTo(FusionSpec.parse(s));
    }
    assertThat(FusionSpec.parse("rrf")).isEqualTo(FusionSpec.rrf(60));
    assertThat(FusionSpec.parse("convex")).isEqualTo(FusionSpec.DEFAULT);
    assertThatThrownBy(() -> FusionSpec.parse("borda")).hasMessageContaining("rrf, wrrf or convex");
    assertThatThrownBy(() -> FusionSpec.parse("convex:tmm,alpha=1.5")).hasMessageContaining("[0, 1]");
    assertThatThrownBy(() -> FusionSpec.parse("rrf:alpha=0.5")).hasMessageContaining("no alpha");
    assertThatThrownBy(() -> FusionSpec.parse("convex:k=3")).hasMessageContaining("no k");
    assertThatThrownBy(() -> FusionSpec.parse("rrf:k=0")).hasMessageContaining(">= 1");
    assertThatThrownBy(() -> FusionSpec.parse("rrf:k=x")).hasMessageContaining("bad value");
    for (String s : List.of("rrf:k=60,level=doc", "convex:zscore,alpha=0.7,level=doc")) {
      assertThat(FusionSpec.parse(s).toString()).isEqualTo(s);
      assertThat(FusionSpec.parse(s).level()).isEqualTo(FusionSpec.Level.DOC);
    }
    assertThat(FusionSpec.parse("rrf:level=chunk")).isEqualTo(FusionSpec.rrf(60));
    assertThatThrownBy(() -> FusionSpec.parse("rrf:level=passage")).hasMessageContaining("chunk or doc");
  }

  @Test
  void documentLevelFusionTakesEachSignalsBestChunkPerDocument() {
    // ids 1 and 2 are chunks of document 0; 3 and 4 are documents 1 and 2.
    // chunk level, minmax, alpha 0.5: dense (0.5 0.9 0.3 0.1) -> (0.5 1 0.25 0), bm25 (0 2 12 8) -> (0 1/6 1 2/3):
    //   fused 0.25, 0.583, 0.625, 0.333 -> 3, 2, 4, 1
    // document level: doc 0 = (max dense 0.9, max bm25 2), doc 1 = (0.3, 12), doc 2 = (0.1, 8);
    //   dense -> (1, 0.25, 0), bm25 -> (0, 1, 0.6): fused 0.5, 0.625, 0.3 -> doc 1, doc 0 (chunks 2 then 1), doc 2
    Candidates c = four();
    c.setDocuments(new int[] {0, 0, 1, 2});
    FusionSpec chunk = FusionSpec.convex(FusionSpec.Normalization.MINMAX, 0.5);
    assertThat(c.fuse(chunk)).extracting(ScoredChunk::id).containsExactly(3, 2, 4, 1);
    List<ScoredChunk> doc = c.fuse(chunk.withLevel(FusionSpec.Level.DOC));
    assertThat(doc).extracting(ScoredChunk::id).containsExactly(3, 2, 1, 4);
    assertThat(doc.get(0).score()).isCloseTo(0.625f, within(1e-6f));
    assertThat(doc.get(1).score()).isCloseTo(0.5f, within(1e-6f));
    assertThat(doc.get(2).score()).isEqualTo(doc.get(1).score()); // a document's chunks share its score
    assertThat(doc.get(3).score()).isCloseTo(0.3f, within(1e-6f));
    // one chunk per document: both levels agree
    Candidates single = four();
    single.setDocuments(new int[] {0, 1, 2, 3});
    assertThat(single.fuse(chunk.withLevel(FusionSpec.Level.DOC))).isEqualTo(single.fuse(chunk));
    assertThatThrownBy(() -> four().fuse(chunk.withLevel(FusionSpec.Level.DOC)))
        .hasMessageContaining("documents");
  }

  @Test
  void unionKeepsFirstStageScoresAndRanks() {
    Candidates c = four();
    assertThat(c.size()).isEqualTo(4);
    assertThat(c.annRank(2)).isEqualTo(3);
    assertThat(c.annRank(3)).isZero();
    assertThat(c.ann(3)).isNaN();
    assertThat(c.bm25(2)).isEqualTo(12f); // from the BM25 retrieval, not overwritten
  }

  @Test
  void rrfUsesRanksOverTheCandidatesOfBothExactSignals() {
    // dense ranks: 2(0.9) 1(0.5) 3(0.3) 4(0.1); bm25 ranks: 3(12) 4(8) 2(2) 1(0)
    List<ScoredChunk> f = four().fuse(FusionSpec.rrf(1));
    double s2 = 1.0 / 2 + 1.0 / 4;
    double s3 = 1.0 / 4 + 1.0 / 2;
    double s1 = 1.0 / 3 + 1.0 / 5;
    double s4 = 1.0 / 5 + 1.0 / 3;
    assertThat(f).extracting(ScoredChunk::id).containsExactly(2, 3, 1, 4); // ties by id
    assertThat(f.get(0).score()).isCloseTo((float) s2, within(1e-6f));
    assertThat(f.get(1).score()).isCloseTo((float) s3, within(1e-6f));
    assertThat(f.get(2).score()).isCloseTo((float) s1, within(1e-6f));
    assertThat(f.get(3).score()).isCloseTo((float) s4, within(1e-6f));
    // weighted: alpha 1 is the dense ranking, alpha 0 the BM25 ranking
    assertThat(four().fuse(FusionSpec.wrrf(60, 1.0))).extracting(ScoredChunk::id).containsExactly(2, 1, 3, 4);
    assertThat(four().fuse(FusionSpec.wrrf(60, 0.0))).extracting(ScoredChunk::id).containsExactly(3, 4, 2, 1);
  }

  @Test
  void convexCombinationNormalizesEachSide() {
    // minmax: dense (x-0.1)/0.8, bm25 x/12; alpha 0.5
    List<ScoredChunk> mm = four().fuse(FusionSpec.convex(FusionSpec.Normalization.MINMAX, 0.5));
    // id 1: 0.5*0.5 + 0; id 2: 0.5*1 + 0.5*2/12; id 3: 0.5*0.25 + 0.5*1; id 4: 0 + 0.5*8/12
    assertThat(mm).extracting(ScoredChunk::id).containsExactly(3, 2, 4, 1);
    assertThat(mm.get(0).score()).isCloseTo((float) (0.5 * 0.25 + 0.5), within(1e-6f));
    assertThat(mm.get(1).score()).isCloseTo((float) (0.5 + 0.5 * 2 / 12.0), within(1e-6f));
    // tmm: dense lower bound -1 (theoretical), bm25 lower bound 0: id 3 = 0.5*(1.3/1.9) + 0.5*1
    List<ScoredChunk> tmm = four().fuse(FusionSpec.convex(FusionSpec.Normalization.TMM, 0.5));
    assertThat(tmm.get(0).id()).isEqualTo(3);
    assertThat(tmm.get(0).score()).isCloseTo((float) (0.5 * (1.3 / 1.9) + 0.5), within(1e-6f));
    // zscore: mean/population sd of each side
    double md = (0.5 + 0.9 + 0.3 + 0.1) / 4;
    double sd = Math.sqrt((Math.pow(0.5 - md, 2) + Math.pow(0.9 - md, 2) + Math.pow(0.3 - md, 2)
        + Math.pow(0.1 - md, 2)) / 4);
    double mb = 22 / 4.0;
    double sb = Math.sqrt((Math.pow(0 - mb, 2) + Math.pow(2 - mb, 2) + Math.pow(12 - mb, 2) + Math.pow(8 - mb, 2)) / 4);
    List<ScoredChunk> z = four().fuse(FusionSpec.convex(FusionSpec.Normalization.ZSCORE, 0.3));
    float want4 = (float) (0.3 * (0.1 - md) / sd + 0.7 * (8 - mb) / sb);
    assertThat(z.stream().filter(x -> x.id() == 4).findFirst().orElseThrow().score()).isCloseTo(want4, within(1e-5f));
    // alpha 1 and 0 reproduce the single signals
    assertThat(four().fuse(FusionSpec.convex(FusionSpec.Normalization.TMM, 1))).extracting(ScoredChunk::id)
        .containsExactly(2, 1, 3, 4);
    assertThat(four().fuse(FusionSpec.convex(FusionSpec.Normalization.ZSCORE, 0))).extracting(ScoredChunk::id)
        .containsExactly(3, 4, 2, 1);
  }

  @Test
  void truncateKeepsTheCandidatesOfAShallowerSearch() {
    Candidates c = four().truncate(1); // ADC top 1 = id 1, BM25 top 1 = id 3
    assertThat(c.size()).isEqualTo(2);
    assertThat(List.of(c.id(0), c.id(1))).containsExactly(1, 3);
    assertThat(c.ann(1)).isNaN(); // id 3 was ADC rank 3: not an ADC candidate at depth 1
    assertThat(c.dense(1)).isEqualTo(0.3f); // but its exact score is kept
    assertThat(four().truncate(3).size()).isEqualTo(4);
  }

  @Test
  void aSideWithoutEvidenceCountsAsItsMinimum() {
    // no re-scoring vectors: BM25-only candidates have no dense score; RRF gives them no dense term
    Candidates c = Candidates.union(List.of(c(1, 0.9f)), List.of(c(2, 5f)), -1f);
    c.setBm25(0, 1f);
    List<ScoredChunk> f = c.fuse(FusionSpec.rrf(60));
    assertThat(f).extracting(ScoredChunk::id).containsExactly(1, 2);
    assertThat(f.get(0).score()).isCloseTo((float) (1.0 / 61 + 1.0 / 62), within(1e-7f));
    assertThat(f.get(1).score()).isCloseTo((float) (1.0 / 61), within(1e-7f));
    // a convex combination puts the missing side at the bottom of its range: minmax over one dense value is 0
    List<ScoredChunk> m = c.fuse(FusionSpec.convex(FusionSpec.Normalization.MINMAX, 0.5));
    assertThat(m).extracting(ScoredChunk::id).containsExactly(2, 1);
    assertThat(m.get(0).score()).isCloseTo(0.5f, within(1e-7f)); // dense 0 (missing), bm25 (5-1)/(5-1) = 1
    assertThat(m.get(1).score()).isZero(); // dense 0 (range 0), bm25 (1-1)/4 = 0
  }
}
