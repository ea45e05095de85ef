package io.quarry.core.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.quarry.core.search.fusion.ConvexCombination;
import io.quarry.core.search.fusion.Normalization;
import io.quarry.core.search.fusion.Rrf;
import io.quarry.core.search.fusion.WeightedRrf;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Fusion after exact re-scoring: the spec's text form and each fusion function's arithmetic, by hand. */
class FusionTest {
  static ScoredChunk c(int id, float s) {
    return new ScoredChunk(0, id, s);
  }

  /** The two signals of today's hybrid: ADC (replaced by exact scores) first, then BM25. */
  static Candidates union(List<ScoredChunk> ann, List<ScoredChunk> bm25) {
    return Candidates.union(List.of(Candidates.Source.dense("dense", -1f), Candidates.Source.lexical("bm25")),
        List.of(ann, bm25));
  }

  static FusionSpec rrf(int k) {
    return new FusionSpec(new Rrf(k));
  }

  static FusionSpec wrrf(int k, double alpha) {
    return new FusionSpec(new WeightedRrf(k, alpha));
  }

  static FusionSpec convex(Normalization n, double alpha) {
    return new FusionSpec(new ConvexCombination(n, alpha));
  }

  /** ADC returned 1, 2, 3 (in that order); BM25 returned 3, 4. Exact dense and BM25 scores filled for all four. */
  static Candidates four() {
    Candidates c = union(List.of(c(1, 0.9f), c(2, 0.8f), c(3, 0.7f)), List.of(c(3, 12f), c(4, 8f)));
    float[] dense = {0.5f, 0.9f, 0.3f, 0.1f}; // ids 1..4 in (shard, id) order
    float[] bm25 = {0f, 2f, 12f, 8f};
    for (int i = 0; i < 4; i++) {
      c.setScore("dense", i, dense[i]);
      if (Float.isNaN(c.score("bm25", i))) {
        c.setScore("bm25", i, bm25[i]);
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
    assertThat(FusionSpec.parse("rrf")).isEqualTo(rrf(60));
    assertThat(FusionSpec.parse("convex")).isEqualTo(FusionSpec.DEFAULT);
    assertThatThrownBy(() -> FusionSpec.parse("borda")).hasMessageContaining("rrf, wrrf, convex or combmnz");
    assertThatThrownBy(() -> FusionSpec.parse("convex:tmm,alpha=1.5")).hasMessageContaining("[0, 1]");
    assertThatThrownBy(() -> FusionSpec.parse("rrf:alpha=0.5")).hasMessageContaining("no alpha");
    assertThatThrownBy(() -> FusionSpec.parse("convex:k=3")).hasMessageContaining("no k");
    assertThatThrownBy(() -> FusionSpec.parse("rrf:k=0")).hasMessageContaining(">= 1");
    assertThatThrownBy(() -> FusionSpec.parse("rrf:k=x")).hasMessageContaining("bad value");
    for (String s : List.of("rrf:k=60,level=doc", "convex:zscore,alpha=0.7,level=doc")) {
      assertThat(FusionSpec.parse(s).toString()).isEqualTo(s);
      assertThat(FusionSpec.parse(s).level()).isEqualTo(FusionSpec.Level.DOC);
    }
    assertThat(FusionSpec.parse("rrf:level=chunk")).isEqualTo(rrf(60));
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
    FusionSpec chunk = convex(Normalization.MINMAX, 0.5);
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
    assertThat(c.firstStageRank("dense", 2)).isEqualTo(3);
    assertThat(c.firstStageRank("dense", 3)).isZero();
    assertThat(c.firstStageScore("dense", 3)).isNaN();
    assertThat(c.firstStageRank("bm25", 2)).isEqualTo(1);
    assertThat(c.score("bm25", 2)).isEqualTo(12f); // from the BM25 retrieval, not overwritten
  }

  @Test
  void rrfUsesRanksOverTheCandidatesOfBothExactSignals() {
    // dense ranks: 2(0.9) 1(0.5) 3(0.3) 4(0.1); bm25 ranks: 3(12) 4(8) 2(2) 1(0)
    List<ScoredChunk> f = four().fuse(rrf(1));
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
    assertThat(four().fuse(wrrf(60, 1.0))).extracting(ScoredChunk::id).containsExactly(2, 1, 3, 4);
    assertThat(four().fuse(wrrf(60, 0.0))).extracting(ScoredChunk::id).containsExactly(3, 4, 2, 1);
  }

  @Test
  void convexCombinationNormalizesEachSide() {
    // minmax: dense (x-0.1)/0.8, bm25 x/12; alpha 0.5
    List<ScoredChunk> mm = four().fuse(convex(Normalization.MINMAX, 0.5));
    // id 1: 0.5*0.5 + 0; id 2: 0.5*1 + 0.5*2/12; id 3: 0.5*0.25 + 0.5*1; id 4: 0 + 0.5*8/12
    assertThat(mm).extracting(ScoredChunk::id).containsExactly(3, 2, 4, 1);
    assertThat(mm.get(0).score()).isCloseTo((float) (0.5 * 0.25 + 0.5), within(1e-6f));
    assertThat(mm.get(1).score()).isCloseTo((float) (0.5 + 0.5 * 2 / 12.0), within(1e-6f));
    // tmm: dense lower bound -1 (theoretical), bm25 lower bound 0: id 3 = 0.5*(1.3/1.9) + 0.5*1
    List<ScoredChunk> tmm = four().fuse(convex(Normalization.TMM, 0.5));
    assertThat(tmm.get(0).id()).isEqualTo(3);
    assertThat(tmm.get(0).score()).isCloseTo((float) (0.5 * (1.3 / 1.9) + 0.5), within(1e-6f));
    // zscore: mean/population sd of each side
    double md = (0.5 + 0.9 + 0.3 + 0.1) / 4;
    double sd = Math.sqrt((Math.pow(0.5 - md, 2) + Math.pow(0.9 - md, 2) + Math.pow(0.3 - md, 2)
        + Math.pow(0.1 - md, 2)) / 4);
    double mb = 22 / 4.0;
    double sb = Math.sqrt((Math.pow(0 - mb, 2) + Math.pow(2 - mb, 2) + Math.pow(12 - mb, 2) + Math.pow(8 - mb, 2)) / 4);
    List<ScoredChunk> z = four().fuse(convex(Normalization.ZSCORE, 0.3));
    float want4 = (float) (0.3 * (0.1 - md) / sd + 0.7 * (8 - mb) / sb);
    assertThat(z.stream().filter(x -> x.id() == 4).findFirst().orElseThrow().score()).isCloseTo(want4, within(1e-5f));
    // alpha 1 and 0 reproduce the single signals
    assertThat(four().fuse(convex(Normalization.TMM, 1))).extracting(ScoredChunk::id)
        .containsExactly(2, 1, 3, 4);
    assertThat(four().fuse(convex(Normalization.ZSCORE, 0))).extracting(ScoredChunk::id)
        .containsExactly(3, 4, 2, 1);
  }

  /**
   * Three retrievers: two dense models (e5 returned 1, 2; bge returned 2, 3) and BM25 (returned 3, 4); every signal's
   * score set for all four candidates.
   */
  static Candidates threeSignals() {
    Candidates c = Candidates.union(List.of(Candidates.Source.dense("e5", -1f), Candidates.Source.dense("bge", -1f),
        Candidates.Source.lexical("bm25")), List.of(List.of(c(1, 0.9f), c(2, 0.8f)), List.of(c(2, 0.7f), c(3, 0.6f)),
        List.of(c(3, 10f), c(4, 5f))));
    float[] e5 = {0.9f, 0.8f, 0.1f, 0.2f};
    float[] bge = {0.3f, 0.7f, 0.6f, 0.5f};
    float[] bm25 = {0f, 2f, 10f, 5f};
    for (int i = 0; i < 4; i++) {
      c.setScore("e5", i, e5[i]);
      c.setScore("bge", i, bge[i]);
      if (Float.isNaN(c.score("bm25", i))) {
        c.setScore("bm25", i, bm25[i]);
      }
    }
    return c;
  }

  @Test
  void anyNumberOfSignalsFuseAndAlphaIsSharedByTheDenseOnes() {
    Candidates c = threeSignals();
    assertThat(c.size()).isEqualTo(4);
    assertThat(c.sources()).extracting(Candidates.Source::name).containsExactly("e5", "bge", "bm25");
    assertThat(c.rankBy("bge")).extracting(ScoredChunk::id).containsExactly(2, 3, 4, 1);
    // rrf, k 1: ranks e5 (1 2 4 3), bge (2 3 4 1), bm25 (3 4 2 1) -> three terms each
    List<ScoredChunk> r = c.fuse(rrf(1));
    assertThat(r).extracting(ScoredChunk::id).containsExactly(2, 3, 1, 4);
    assertThat(r.get(0).score()).isCloseTo((float) (1.0 / 3 + 1.0 / 2 + 1.0 / 4), within(1e-6f));
    assertThat(r.get(2).score()).isCloseTo((float) (1.0 / 2 + 1.0 / 5 + 1.0 / 5), within(1e-6f));
    // convex, minmax, alpha 0.5: each dense signal weighs 0.25, BM25 0.5
    // e5 -> (1, 0.875, 0, 0.125), bge -> (0, 1, 0.75, 0.5), bm25 -> (0, 0.2, 1, 0.5)
    List<ScoredChunk> cv = c.fuse(convex(Normalization.MINMAX, 0.5));
    assertThat(cv).extracting(ScoredChunk::id).containsExactly(3, 2, 4, 1);
    assertThat(cv.get(0).score()).isCloseTo((float) (0.25 * 0.75 + 0.5), within(1e-6f));
    assertThat(cv.get(1).score()).isCloseTo((float) (0.25 * 0.875 + 0.25 + 0.5 * 0.2), within(1e-6f));
    // depth 1: the union of the three top-1s
    assertThat(c.truncate(1).size()).isEqualTo(3);
    assertThat(c.truncate(1).firstStageRank("bge", 1)).isEqualTo(1);
    // document level: ids 1, 2 are one document, each signal takes its best chunk
    // per document: e5 (0.9 0.1 0.2) -> (1, 0, 0.125), bge (0.7 0.6 0.5) -> (1, 0.5, 0), bm25 (2 10 5) -> (0, 1, 0.375)
    c.setDocuments(new int[] {0, 0, 1, 2});
    List<ScoredChunk> doc = c.fuse(convex(Normalization.MINMAX, 0.5).withLevel(FusionSpec.Level.DOC));
    assertThat(doc).extracting(ScoredChunk::id).containsExactly(3, 2, 1, 4);
    assertThat(doc.get(0).score()).isCloseTo((float) (0.25 * 0.5 + 0.5), within(1e-6f));
    assertThat(doc.get(1).score()).isCloseTo(0.5f, within(1e-6f));
    assertThat(doc.get(3).score()).isCloseTo((float) (0.25 * 0.125 + 0.5 * 0.375), within(1e-6f));
    assertThatThrownBy(() -> Candidates.union(List.of(Candidates.Source.lexical("bm25"),
        Candidates.Source.lexical("bm25")), List.of(List.of(), List.of()))).hasMessageContaining("two signals");
    assertThatThrownBy(() -> c.score("splade", 0)).hasMessageContaining("no signal splade");
  }

  @Test
  void combMnzCountsTheRetrieversOfEachCandidateAndDocument() {
    Candidates c = threeSignals();
    // minmax sums (1, 2.075, 1.75, 1.125) x retrieved by (1, 2, 2, 1) of the three first stages
    List<ScoredChunk> mnz = c.fuse(FusionSpec.parse("combmnz:minmax"));
    assertThat(mnz).extracting(ScoredChunk::id).containsExactly(2, 3, 4, 1);
    assertThat(mnz.get(0).score()).isCloseTo(2 * 2.075f, within(1e-6f));
    assertThat(mnz.get(2).score()).isCloseTo(1.125f, within(1e-6f));
    // at depth 1 (ids 1, 2, 3) id 3 is only BM25's top 1 (bge returned it second): its count drops to 1;
    // minmax over the three: e5 0, bge (0.6-0.3)/0.4, bm25 1
    Candidates top1 = c.truncate(1);
    assertThat(top1.fuse(FusionSpec.parse("combmnz:minmax")).stream().filter(x -> x.id() == 3).findFirst()
        .orElseThrow().score()).isCloseTo((float) (1 * (0 + 0.75 + 1.0)), within(1e-6f));
    // document level: ids 2 and 3 are one document; e5 retrieved chunk 2, bge both, BM25 chunk 3: any chunk counts,
    // so its count is 3. Per document (1 | 2+3 | 4): e5 (0.9 0.8 0.2) -> (1, 0.6/0.7, 0), bge (0.3 0.7 0.5) ->
    // (0, 1, 0.5), bm25 (0 10 5) -> (0, 1, 0.5); documents 1 and 4 are retrieved once and sum to 1
    c.setDocuments(new int[] {0, 1, 1, 2});
    List<ScoredChunk> doc = c.fuse(FusionSpec.parse("combmnz:minmax,level=doc"));
    assertThat(doc).extracting(ScoredChunk::id).startsWith(2, 3);
    assertThat(doc.get(0).score()).isCloseTo((float) (3 * (0.6 / 0.7 + 1 + 1)), within(1e-5f));
    assertThat(doc.get(1).score()).isEqualTo(doc.get(0).score());
    assertThat(doc.get(2).score()).isCloseTo(1f, within(1e-6f));
    assertThat(doc.get(3).score()).isCloseTo(1f, within(1e-6f));
  }

  @Test
  void truncateKeepsTheCandidatesOfAShallowerSearch() {
    Candidates c = four().truncate(1); // ADC top 1 = id 1, BM25 top 1 = id 3
    assertThat(c.size()).isEqualTo(2);
    assertThat(List.of(c.id(0), c.id(1))).containsExactly(1, 3);
    assertThat(c.firstStageScore("dense", 1)).isNaN(); // id 3 was ADC rank 3: not an ADC candidate at depth 1
    assertThat(c.score("dense", 1)).isEqualTo(0.3f); // but its exact score is kept
    assertThat(four().truncate(3).size()).isEqualTo(4);
  }

  @Test
  void aSideWithoutEvidenceCountsAsItsMinimum() {
    // no re-scoring vectors: BM25-only candidates have no dense score; RRF gives them no dense term
    Candidates c = union(List.of(c(1, 0.9f)), List.of(c(2, 5f)));
    c.setScore("bm25", 0, 1f);
    List<ScoredChunk> f = c.fuse(rrf(60));
    assertThat(f).extracting(ScoredChunk::id).containsExactly(1, 2);
    assertThat(f.get(0).score()).isCloseTo((float) (1.0 / 61 + 1.0 / 62), within(1e-7f));
    assertThat(f.get(1).score()).isCloseTo((float) (1.0 / 61), within(1e-7f));
    // a convex combination puts the missing side at the bottom of its range: minmax over one dense value is 0
    List<ScoredChunk> m = c.fuse(convex(Normalization.MINMAX, 0.5));
    assertThat(m).extracting(ScoredChunk::id).containsExactly(2, 1);
    assertThat(m.get(0).score()).isCloseTo(0.5f, within(1e-7f)); // dense 0 (missing), bm25 (5-1)/(5-1) = 1
    assertThat(m.get(1).score()).isZero(); // dense 0 (range 0), bm25 (1-1)/4 = 0
  }
}
