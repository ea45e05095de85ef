package io.quarry.core.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsTest {
  private static final double EPS = 1e-12;

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }

  // q1: relevant d1 (1), d2 (2), d4 (1); d3 judged non-relevant (0). Ranking d3, d2, d5, d1.
  private static final Map<String, Integer> Q1 = Map.of("d1", 1, "d2", 2, "d3", 0, "d4", 1);
  private static final List<ScoredDoc> R1 = List.of(
      new ScoredDoc("d3", 0.9), new ScoredDoc("d2", 0.8), new ScoredDoc("d5", 0.7), new ScoredDoc("d1", 0.6));

  @Test
  void handComputedGradedQuery() {
    assertThat(Metrics.precision(R1, Q1, 2)).isCloseTo(0.5, within(EPS));
    assertThat(Metrics.precision(R1, Q1, 10)).isCloseTo(0.2, within(EPS)); // 2 relevant / 10, only 4 retrieved
    assertThat(Metrics.recall(R1, Q1, 3)).isCloseTo(1.0 / 3, within(EPS));
    assertThat(Metrics.recall(R1, Q1, 100)).isCloseTo(2.0 / 3, within(EPS));
    assertThat(Metrics.reciprocalRank(R1, Q1, 10)).isCloseTo(0.5, within(EPS));
    assertThat(Metrics.reciprocalRank(R1, Q1, 1)).isZero();
    assertThat(Metrics.success(R1, Q1, 1)).isZero();
    assertThat(Metrics.success(R1, Q1, 2)).isEqualTo(1.0);
    assertThat(Metrics.averagePrecision(R1, Q1, Integer.MAX_VALUE)).isCloseTo((1.0 / 2 + 2.0 / 4) / 3, within(EPS));
    assertThat(Metrics.averagePrecision(R1, Q1, 3)).isCloseTo((1.0 / 2) / 3, within(EPS));
    // gain = grade: DCG@3 = 2/log2(3); ideal = 2/log2(2) + 1/log2(3) + 1/log2(4)
    double ndcg3 = (2 / log2(3)) / (2 + 1 / log2(3) + 1 / log2(4));
    assertThat(Metrics.ndcg(R1, Q1, 3)).isCloseTo(ndcg3, within(EPS));
    assertThat(ndcg3).isCloseTo(0.403030, within(1e-6));
    double ndcg10 = (2 / log2(3) + 1 / log2(5)) / (2 + 1 / log2(3) + 1 / log2(4));
    assertThat(Metrics.ndcg(R1, Q1, 10)).isCloseTo(ndcg10, within(EPS));
  }

  @Test
  void tiesAreBrokenByDocumentIdDescendingLikeTrecEval() {
    Map<String, Integer> q = Map.of("a", 1);
    List<ScoredDoc> tied = Rankings.sorted(List.of(new ScoredDoc("a", 0.5), new ScoredDoc("b", 0.5)));
    assertThat(tied).extracting(ScoredDoc::docId).containsExactly("b", "a");
    assertThat(Metrics.reciprocalRank(tied, q, 10)).isCloseTo(0.5, within(EPS));
    assertThat(Metrics.ndcg(tied, q, 10)).isCloseTo(1 / log2(3), within(EPS));
    // strcmp order: "d10" < "d9", so d9 comes first among equal scores
    assertThat(Rankings.sorted(List.of(new ScoredDoc("d10", 1), new ScoredDoc("d9", 1))))
        .extracting(ScoredDoc::docId).containsExactly("d9", "d10");
  }

  @Test
  void chunkHitsAggregateToMaxScorePerDocument() {
    List<ScoredDoc> docs = Rankings.maxPerDocument(List.of(
        new ChunkHit("A#0", "A", 0.9), new ChunkHit("B#0", "B", 0.8), new ChunkHit("A#1", "A", 0.95),
        new ChunkHit("C#0", "C", 0.85), new ChunkHit("B#1", "B", 0.1)), 10);
    assertThat(docs).containsExactly(new ScoredDoc("A", 0.95), new ScoredDoc("C", 0.85), new ScoredDoc("B", 0.8));
    assertThat(Rankings.maxPerDocument(List.of(new ChunkHit("A#0", "A", 1), new ChunkHit("B#0", "B", 2)), 1))
        .containsExactly(new ScoredDoc("B", 2));
    assertThatThrownBy(() -> Rankings.maxPerDocument(List.of(), 0)).hasMessageContaining("k must be > 0");
  }

  @Test
  void queriesWithoutRelevantDocumentsScoreZeroAndCount() {
    Map<String, Map<String, Integer>> j = new LinkedHashMap<>();
    j.put("q1", Q1);
    j.put("q2", Map.of("x", 0));
    j.put("q3", Map.of("d1", 1)); // judged, but absent from the run
    Map<String, List<ScoredDoc>> run = new LinkedHashMap<>();
    run.put("q1", R1);
    run.put("q2", List.of(new ScoredDoc("x", 1.0)));
    run.put("q9", List.of(new ScoredDoc("d1", 1.0))); // not judged: skipped
    Evaluation e = Evaluation.of(run, Qrels.of(j), Evaluation.parseMetrics(List.of("MRR@10", "nDCG@10", "Recall@100")));
    assertThat(e.queryCount()).isEqualTo(3);
    assertThat(e.unjudgedRunQueries()).isEqualTo(1);
    assertThat(e.emptyRankings()).isEqualTo(1);
    assertThat(e.perQuery().get("q2")).containsExactly(0, 0, 0);
    assertThat(e.mean("MRR@10")).isCloseTo(0.5 / 3, within(EPS));
    assertThat(e.mean("Recall@100")).isCloseTo((2.0 / 3) / 3, within(EPS));
  }

  @Test
  void metricNamesParseInBothForms() {
    assertThat(Measure.parse("ndcg_cut_10")).isEqualTo(Measure.parse("nDCG@10"));
    assertThat(Measure.parse("recall.100").name()).isEqualTo("Recall@100");
    assertThat(Measure.parse("P_5").name()).isEqualTo("P@5");
    assertThat(Measure.parse("map").name()).isEqualTo("MAP");
    assertThat(Measure.parse("map_cut_100").name()).isEqualTo("MAP@100");
    assertThat(Measure.parse("success@1").trecEvalName()).isEqualTo("success_1");
    assertThatThrownBy(() -> Measure.parse("foo@3")).hasMessageContaining("unknown metric 'foo@3'");
    assertThatThrownBy(() -> Measure.parse("nDCG")).hasMessageContaining("needs a cutoff");
  }
}
