package io.quarry.core.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ComparisonTest {

  @Test
  void studentTailMatchesClosedForms() {
    // df = 1 is Cauchy: P(|T| >= t) = 1 - (2/pi) atan(t); df = 2: 1 - t / sqrt(2 + t^2)
    assertThat(PairedTests.studentTwoSided(1, 1)).isCloseTo(0.5, within(1e-12));
    assertThat(PairedTests.studentTwoSided(3, 1)).isCloseTo(1 - 2 / Math.PI * Math.atan(3), within(1e-12));
    assertThat(PairedTests.studentTwoSided(2, 2)).isCloseTo(1 - 2 / Math.sqrt(6), within(1e-12));
    assertThat(PairedTests.studentTwoSided(0, 7)).isCloseTo(1.0, within(1e-12));
    assertThat(PairedTests.studentTwoSided(2.0, 10)).isCloseTo(0.073388, within(1e-6));
  }

  @Test
  void pairedTTestByHand() {
    // mean 2, sd 1, n 3: t = 2 * sqrt(3), df 2
    double t = 2 * Math.sqrt(3);
    assertThat(PairedTests.tTest(new double[] {1, 2, 3})).isCloseTo(1 - t / Math.sqrt(2 + t * t), within(1e-12));
    assertThat(PairedTests.tTest(new double[] {0, 0, 0})).isEqualTo(1.0);
    assertThat(PairedTests.tTest(new double[] {1})).isNaN();
  }

  @Test
  void randomizationTestIsSeededAndNearTheExactValue() {
    double[] d = {1, 1, 1, 1, 1}; // exact: 2 of 32 sign patterns reach |sum| = 5
    double p = PairedTests.randomization(d, 20_000, 42);
    assertThat(p).isCloseTo(2.0 / 32, within(0.005));
    assertThat(PairedTests.randomization(d, 20_000, 42)).isEqualTo(p);
    assertThat(PairedTests.randomization(new double[] {0.5, -0.5}, 1000, 1)).isEqualTo(1.0);
  }

  static EvalReport report(String stage, Map<String, double[]> perQuery) {
    Map<String, Map<String, Double>> pq = new LinkedHashMap<>();
    double[] sums = new double[2];
    perQuery.forEach((q, v) -> {
      pq.put(q, Map.of("nDCG@10", v[0], "Recall@100", v[1]));
      sums[0] += v[0];
      sums[1] += v[1];
    });
    Map<String, Double> means = new LinkedHashMap<>();
    means.put("nDCG@10", sums[0] / perQuery.size());
    means.put("Recall@100", sums[1] / perQuery.size());
    return new EvalReport(EvalReport.SCHEMA_VERSION, "r", "h", "m", "v", "IVF4,PQ8x8",
        new EvalReport.Dataset("beir", "q", "x", "r", "y", perQuery.size(), perQuery.size()), Map.of(),
        List.of(new EvalReport.StageResult(stage, "", "runs/" + stage + ".trec", perQuery.size(), 0, means, null,
            null, null, pq)), stage, List.of(), null, List.of());
  }

  @Test
  void gateFailsOnlyWhenAGatedMetricDropsBeyondTolerance() {
    Map<String, double[]> base = new LinkedHashMap<>();
    Map<String, double[]> cur = new LinkedHashMap<>();
    for (int i = 0; i < 20; i++) {
      base.put("q" + i, new double[] {0.5, 0.8});
      cur.put("q" + i, new double[] {i < 10 ? 0.45 : 0.5, 0.8}); // nDCG drops 0.025 on average
    }
    cur.put("extra", new double[] {1, 1}); // not in the baseline: not paired
    EvalReport b = report("rescore", base);
    EvalReport c = report("rescore", cur);
    Comparison.Result strict = Comparison.compare(b, c, null, Map.of("nDCG@10", 0.01), 1000, 7);
    assertThat(strict.passed()).isFalse();
    assertThat(strict.pairedQueries()).isEqualTo(20);
    Comparison.MetricDelta nd = strict.metrics().get(0);
    assertThat(nd.metric()).isEqualTo("nDCG@10");
    assertThat(nd.delta()).isCloseTo(-0.025, within(1e-12));
    assertThat(nd.losses()).isEqualTo(10);
    assertThat(nd.ties()).isEqualTo(10);
    assertThat(nd.failed()).isTrue();
    assertThat(strict.worstQueries()).hasSize(10).first().extracting(Comparison.QueryDelta::qid).isEqualTo("q0");
    assertThat(strict.metrics().get(1).failed()).isFalse();
    assertThat(Comparison.toMarkdown(strict)).contains("FAILED").contains("**FAIL**");

    assertThat(Comparison.compare(b, c, "rescore", Map.of("nDCG@10", 0.03), 1000, 7).passed()).isTrue();
    assertThat(Comparison.compare(b, b, null, Map.of("nDCG@10", 0.0, "Recall@100", 0.0), 100, 7).passed()).isTrue();
    assertThatThrownBy(() -> Comparison.compare(b, c, "bm25", Map.of(), 10, 1))
        .hasMessageContaining("no stage 'bm25'");
    assertThatThrownBy(() -> Comparison.compare(b, c, null, Map.of("MAP", 0.01), 10, 1))
        .hasMessageContaining("gated metric MAP is missing");
  }

  @Test
  void anOldMetricsJsonWithDenseStageNamesComparesWithANewOne() {
    Map<String, double[]> base = new LinkedHashMap<>();
    Map<String, double[]> cur = new LinkedHashMap<>();
    for (int i = 0; i < 10; i++) {
      base.put("q" + i, new double[] {0.5, 0.8});
      cur.put("q" + i, new double[] {0.6, 0.8});
    }
    // as written before issue 24: stage, final stage, sweep and gain named dense-ivfpq / dense-exact
    String oldJson = report("ivfpq", base).toJson().replace("ivfpq", "dense-ivfpq")
        .replace("\"sweeps\" : [ ]", "\"sweeps\" : [ {\"stage\" : \"dense-ivfpq\", \"parameter\" : \"nprobe\", "
            + "\"value\" : 8, \"metrics\" : { } } ], \"gain\" : {\"finalStage\" : \"dense-ivfpq\", \"baseline\" : "
            + "\"dense-exact\", \"metric\" : \"nDCG@10\"}");
    assertThat(oldJson).contains("\"name\" : \"dense-ivfpq\"").contains("\"finalStage\" : \"dense-ivfpq\"");
    EvalReport old = EvalReport.fromJson("old/metrics.json", oldJson);
    assertThat(old.stage("ivfpq")).isNotNull();
    assertThat(old.stage("ivfpq").runFile()).isEqualTo("runs/dense-ivfpq.trec"); // the file on disk keeps its name
    assertThat(old.finalStage()).isEqualTo("ivfpq");
    assertThat(old.sweeps().get(0).stage()).isEqualTo("ivfpq");
    assertThat(old.gain().finalStage()).isEqualTo("ivfpq");
    assertThat(old.gain().baseline()).isEqualTo("exact");
    EvalReport now = EvalReport.fromJson("new/metrics.json", report("ivfpq", cur).toJson());
    Comparison.Result r = Comparison.compare(old, now, null, Map.of("nDCG@10", 0.01), 100, 7);
    assertThat(r.baselineStage()).isEqualTo("ivfpq");
    assertThat(r.currentStage()).isEqualTo("ivfpq");
    assertThat(r.pairedQueries()).isEqualTo(10);
    assertThat(r.metrics().get(0).delta()).isCloseTo(0.1, within(1e-12));
    assertThat(r.passed()).isTrue();
    // an old stage name given to --stage is read too, with a warning
    assertThat(Comparison.compare(old, now, "dense-ivfpq", Map.of(), 100, 7).currentStage()).isEqualTo("ivfpq");
    assertThat(io.quarry.core.search.Stages.warnedSoFar()).contains("--stage: dense-ivfpq");
  }

  @Test
  void reportRoundTripsThroughJson() {
    EvalReport r = report("ivfpq", Map.of("q1", new double[] {0.25, 1.0}));
    EvalReport back = EvalReport.fromJson("metrics.json", r.toJson());
    assertThat(back.toJson()).isEqualTo(r.toJson());
    assertThatThrownBy(() -> EvalReport.fromJson("base/metrics.json", "{\"schemaVersion\": 9, \"stages\": []}"))
        .hasMessageContaining("base/metrics.json: schemaVersion 9 not supported");
    assertThatThrownBy(() -> EvalReport.fromJson("base/metrics.json", "[1, 2"))
        .isInstanceOf(EvalInputException.class).hasMessageStartingWith("base/metrics.json: not a Quarry metrics.json");
  }
}
