package io.quarry.core.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.Test;

class LeaderboardTest {
  static final int Q = 40;

  /** A stage whose per-query nDCG@10 is {@code ndcg(i)} (and Recall@100 = 0.9, MAP = nDCG / 2 when withMap). */
  static EvalReport.StageResult stage(String name, IntToDoubleFunction ndcg, boolean withMap, Double p50) {
    Map<String, Map<String, Double>> pq = new LinkedHashMap<>();
    double sum = 0;
    for (int i = 0; i < Q; i++) {
      Map<String, Double> v = new LinkedHashMap<>();
      v.put("nDCG@10", ndcg.applyAsDouble(i));
      v.put("Recall@100", 0.9);
      if (withMap) {
        v.put("MAP", ndcg.applyAsDouble(i) / 2);
      }
      pq.put("q" + i, v);
      sum += ndcg.applyAsDouble(i);
    }
    Map<String, Double> means = new LinkedHashMap<>();
    means.put("nDCG@10", sum / Q);
    means.put("Recall@100", 0.9);
    if (withMap) {
      means.put("MAP", sum / Q / 2);
    }
    return new EvalReport.StageResult(name, "", "runs/" + name + ".trec", Q, 0, means, null, p50, null, pq);
  }

  static EvalReport report(String runId, List<EvalReport.StageResult> stages, List<EvalReport.SweepPoint> sweeps) {
    return new EvalReport(EvalReport.SCHEMA_VERSION, runId, "h", "model-" + runId, "v1", "IVF4,PQ8x8",
        new EvalReport.Dataset("beir", "q", "x", "r", "y", Q, Q), Map.of(), stages,
        stages.get(stages.size() - 1).name(), sweeps, null, List.of());
  }

  static EvalReport.SweepPoint sweep(String stage, double bytes) {
    return new EvalReport.SweepPoint(stage, "nprobe", 4, Map.of("nDCG@10", 0.5), null, 1.0, bytes);
  }

  static double base(int i) {
    return 0.3 + 0.01 * (i % 20);
  }

  /** Baseline; "better" gains 0.2 on 30 queries; "same" gains 0.1 on one query, loses 0.05 on another; "worse" loses 0.25 everywhere. */
  static List<Leaderboard.Run> runs() {
    EvalReport baseline = report("base", List.of(stage("bm25", i -> 0.2, true, 1.0),
        stage("rescore", LeaderboardTest::base, true, 3.0)), List.of(sweep("rescore", 1588)));
    EvalReport better = report("better", List.of(stage("bm25", i -> 0.2, true, 1.1),
        stage("rescore", i -> base(i) + (i < 30 ? 0.2 : 0), true, 4.0)), List.of(sweep("rescore", 52)));
    EvalReport same = report("same", List.of(stage("rescore", i -> base(i) + (i == 0 ? 0.1 : i == 1 ? -0.05 : 0),
        false, null)), List.of());
    EvalReport worse = report("worse", List.of(stage("bm25", i -> 0.2, true, 0.9),
        stage("rescore", i -> base(i) - 0.25, true, 2.0)), List.of());
    return List.of(new Leaderboard.Run("base", baseline), new Leaderboard.Run("better", better),
        new Leaderboard.Run("same", same), new Leaderboard.Run("worse", worse));
  }

  static Leaderboard.Row row(Leaderboard.Board b, String run) {
    return b.rows().stream().filter(r -> r.run().equals(run)).findFirst().orElseThrow();
  }

  @Test
  void buildTimesAreAColumnWhenRecorded() {
    List<Leaderboard.Run> timed = new java.util.ArrayList<>();
    for (Leaderboard.Run run : runs()) {
      timed.add(new Leaderboard.Run(run.label(), run.report(), run.label().equals("same") ? null
          : run.label().length() * 10.0));
    }
    Leaderboard.Result r = Leaderboard.build(timed, "base", "nDCG@10", Leaderboard.DEFAULT_METRICS, 200, 42, 0.05);
    Leaderboard.Board fin = r.boards().get(0);
    List<String> h = LeaderboardTable.header(r, fin);
    assertThat(h.get(h.size() - 2)).isEqualTo("build s");
    assertThat(LeaderboardTable.cells(r, fin, row(fin, "better")).get(h.size() - 2)).isEqualTo("60.0");
    assertThat(LeaderboardTable.cells(r, fin, row(fin, "same")).get(h.size() - 2)).isEqualTo("—");
    assertThat(r.runs()).extracting(Leaderboard.RunInfo::buildSeconds).containsExactly(40.0, 60.0, null, 50.0);
    assertThat(LeaderboardTable.toMarkdown(r)).contains("| build s |");
    // without build times: no column
    Leaderboard.Result plain = Leaderboard.build(runs(), "base", "nDCG@10", Leaderboard.DEFAULT_METRICS, 200, 42,
        0.05);
    assertThat(LeaderboardTable.header(plain, plain.boards().get(0))).doesNotContain("build s");
  }

  @Test
  void assemblesBoardsRowsAndMissingValues() {
    Leaderboard.Result r = Leaderboard.build(runs(), "base", "nDCG@10", Leaderboard.DEFAULT_METRICS, 2000, 42, 0.05);
    assertThat(r.boards()).extracting(Leaderboard.Board::name).containsExactly("final", "bm25", "rescore");
    Leaderboard.Board fin = r.boards().get(0);
    assertThat(fin.metrics()).containsExactly("nDCG@10", "Recall@100", "MAP"); // no run has MRR@10
    assertThat(fin.rows()).extracting(Leaderboard.Row::run).containsExactly("better", "same", "base", "worse");
    assertThat(row(fin, "better").bytesPerVector()).isEqualTo(52.0);
    assertThat(row(fin, "base").bytesPerVector()).isEqualTo(1588.0);
    assertThat(row(fin, "base").latencyMsP50()).isEqualTo(3.0);
    assertThat(fin.comparisons()).isEqualTo(3);
    // the run without MAP, bytes and latency shows "—" there
    assertThat(LeaderboardTable.cells(r, fin, row(fin, "same"))).containsExactly("same", "rescore",
        String.format(java.util.Locale.ROOT, "%.4f", row(fin, "same").metrics().get("nDCG@10")), "0.9000", "—", "—",
        "—", "1 / 1 / 38");
    assertThat(LeaderboardTable.cells(r, fin, row(fin, "base")).get(0)).isEqualTo("base (baseline)");
    assertThat(LeaderboardTable.cells(r, fin, row(fin, "base")).get(7)).isEqualTo("—");
    // the bm25 board: "same" has no bm25 stage: a row of dashes, not compared
    Leaderboard.Board bm25 = r.boards().get(1);
    assertThat(row(bm25, "same").stage()).isNull();
    assertThat(row(bm25, "same").versus()).isEmpty();
    assertThat(LeaderboardTable.cells(r, bm25, row(bm25, "same"))).containsOnly("same", "—");
    assertThat(bm25.comparisons()).isEqualTo(2);
    assertThat(bm25.rows()).extracting(Leaderboard.Row::run).endsWith("same");
  }

  @Test
  void significanceIsCompareSPairedTestCorrectedWithHolm() {
    List<Leaderboard.Run> runs = runs();
    Leaderboard.Result r = Leaderboard.build(runs, "base", "nDCG@10", Leaderboard.DEFAULT_METRICS, 2000, 42, 0.05);
    Leaderboard.Board fin = r.boards().get(0);
    List<Double> raw = new ArrayList<>();
    List<String> order = List.of("better", "same", "worse");
    for (String run : order) {
      EvalReport cur = runs.stream().filter(x -> x.label().equals(run)).findFirst().orElseThrow().report();
      Comparison.MetricDelta d = Comparison.compare(runs.get(0).report(), cur, null, Map.of(), 2000, 42).metrics()
          .get(0);
      assertThat(d.metric()).isEqualTo("nDCG@10");
      Leaderboard.Versus v = row(fin, run).versus().get("nDCG@10");
      assertThat(v.p()).isEqualTo(d.pRandomization());
      assertThat(v.delta()).isEqualTo(d.delta());
      assertThat(List.of(v.wins(), v.losses(), v.ties())).containsExactly(d.wins(), d.losses(), d.ties());
      raw.add(v.p());
    }
    double[] adj = Holm.adjust(raw.stream().mapToDouble(Double::doubleValue).toArray());
    for (int i = 0; i < order.size(); i++) {
      assertThat(row(fin, order.get(i)).versus().get("nDCG@10").pHolm()).isEqualTo(adj[i]);
    }
    Leaderboard.Versus better = row(fin, "better").versus().get("nDCG@10");
    assertThat(List.of(better.wins(), better.losses(), better.ties())).containsExactly(30, 0, 10);
    assertThat(better.p()).isEqualTo(1.0 / 2001); // no sign flip reaches the observed sum
    assertThat(better.pHolm()).isEqualTo(3.0 / 2001); // smallest of three
    assertThat(LeaderboardTable.cells(r, fin, row(fin, "better")).get(2)).endsWith(" ▲");
    assertThat(LeaderboardTable.cells(r, fin, row(fin, "worse")).get(2)).endsWith(" ▼");
    assertThat(LeaderboardTable.cells(r, fin, row(fin, "same")).get(2)).doesNotContain("▲").doesNotContain("▼");
    assertThat(row(fin, "same").versus().get("nDCG@10").pHolm()).isEqualTo(1.0);
    // MAP: "same" has none, so that family is two comparisons
    assertThat(row(fin, "same").versus()).doesNotContainKey("MAP");
    assertThat(row(fin, "better").versus().get("MAP").pHolm()).isEqualTo(2 * row(fin, "better").versus().get("MAP")
        .p());
    // Recall@100 is equal everywhere: p = 1, never marked
    assertThat(row(fin, "better").versus().get("Recall@100").pHolm()).isEqualTo(1.0);
    assertThat(LeaderboardTable.significanceRows(fin)).hasSize(3);
    String md = LeaderboardTable.toMarkdown(r);
    assertThat(md).contains("# Leaderboard: 4 evaluations, baseline `base`, ranked by nDCG@10")
        .contains("## Final stage of each run").contains("## Stage `bm25`")
        .contains(String.format(java.util.Locale.ROOT, "| better | %+.4f (p %.4f, Holm %.4f) ▲ |", better.delta(),
            better.p(), better.pHolm()).substring(0, 30))
        .contains("Holm 1979");
  }

  @Test
  void refusesBadInput() {
    List<Leaderboard.Run> runs = runs();
    assertThatThrownBy(() -> Leaderboard.build(runs.subList(0, 1), "base", "nDCG@10", Leaderboard.DEFAULT_METRICS,
        100, 1, 0.05)).hasMessageContaining("at least 2");
    assertThatThrownBy(() -> Leaderboard.build(runs, "nope", "nDCG@10", Leaderboard.DEFAULT_METRICS, 100, 1, 0.05))
        .hasMessageContaining("baseline 'nope'");
    assertThatThrownBy(() -> Leaderboard.build(List.of(runs.get(0), runs.get(0)), "base", "nDCG@10",
        Leaderboard.DEFAULT_METRICS, 100, 1, 0.05)).hasMessageContaining("labelled 'base'");
    assertThatThrownBy(() -> Leaderboard.build(runs, "base", "P@5", Leaderboard.DEFAULT_METRICS, 100, 1, 0.05))
        .hasMessageContaining("metric P@5");
  }
}
