package io.quarry.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.eval.EvalReport;
import io.quarry.core.eval.LossAttribution;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HtmlReportTest {
  static final String[] CHARTS = {"chart-metrics", "chart-nprobe", "chart-latency", "chart-bytes", "chart-candidates",
      "chart-rrfk", "chart-loss"};

  @TempDir Path tmp;

  static Map<String, Double> m(double ndcg, double recall, double mrr) {
    Map<String, Double> x = new LinkedHashMap<>();
    x.put("nDCG@10", ndcg);
    x.put("Recall@100", recall);
    x.put("MRR@10", mrr);
    return x;
  }

  static EvalReport sample() {
    List<EvalReport.StageResult> stages = List.of(
        new EvalReport.StageResult("bm25", "BM25 <top 1000>", "runs/bm25.trec", 3, 0, m(0.66, 0.9, 0.6), null, 1.5,
            3.0, Map.of()),
        new EvalReport.StageResult("ivfpq", "IVF-PQ & ADC", "runs/ivfpq.trec", 3, 0, m(0.68, 0.92, 0.64),
            0.81, 0.8, 1.1, Map.of()),
        new EvalReport.StageResult("rescore", "hybrid + exact", "runs/rescore.trec", 3, 0, m(0.72, 0.96, 0.68), null,
            4.2, 6.0, Map.of()));
    List<EvalReport.SweepPoint> sweeps = new ArrayList<>();
    int[] np = {1, 4, 16, 64};
    for (int i = 0; i < np.length; i++) {
      sweeps.add(new EvalReport.SweepPoint("ivfpq", "nprobe", np[i], m(0.5 + 0.05 * i, 0.7 + 0.07 * i, 0.5),
          0.4 + 0.15 * i, 0.2 * (i + 1), 52.0));
    }
    for (int c : new int[] {100, 1000}) {
      sweeps.add(new EvalReport.SweepPoint("rescore", "candidates", c, m(0.7 + c / 1e5, 0.95, 0.66), null, c / 200.0,
          1588.0));
    }
    for (int k : new int[] {10, 60}) {
      sweeps.add(new EvalReport.SweepPoint("hybrid", "rrfK", k, m(0.69 + k / 1e4, 0.95, 0.66), null, 2.0, 52.0));
    }
    Map<String, Integer> counts = new LinkedHashMap<>();
    Map<String, List<String>> ex = new LinkedHashMap<>();
    for (LossAttribution.Cause c : LossAttribution.Cause.values()) {
      counts.put(c.label(), c.ordinal() * 2);
      ex.put(c.label(), List.of("q" + c.ordinal() + "/d<1>"));
    }
    return new EvalReport(EvalReport.SCHEMA_VERSION, "latest", "abc123", "bge-small-en-v1.5-q", "v-1", "IVF64,PQ48x8",
        new EvalReport.Dataset("beir", "queries.jsonl", "11", "qrels/test.tsv", "22", 3, 4), Map.of("k", 100),
        stages, "rescore", sweeps, new LossAttribution.Summary(10, 20, 5, counts, ex),
        List.of("stage cross-encoder skipped: no cross-encoder configured"));
  }

  @Test
  void rendersEveryChartAsInlineSvgAndEscapesText() {
    String html = HtmlReport.render(sample());
    for (String id : CHARTS) {
      assertThat(html).contains("<figure class=\"chart\" id=\"" + id + "\"><svg");
    }
    assertThat(html).doesNotContain("BM25 <top").contains("BM25 &lt;top 1000&gt;").contains("q0/d&lt;1&gt;");
    assertThat(html).doesNotContain("http://cdn").doesNotContain("<script").doesNotContain("<link");
    assertThat(html).contains("rescore (final)");
    assertThat(html).doesNotContain("<?xml");
    // text stays text (axis labels, legend), not outlines
    assertThat(html).containsPattern("<text[^>]*>mean over judged queries</text").containsPattern("<text[^>]*>nDCG@10<");
    assertIdsUniqueAndResolved(html);
    assertThat(HtmlReport.render(sample())).isEqualTo(html); // deterministic
  }

  /** Ids are unique in the page and every url(#…) reference (clip paths) resolves within it. */
  static void assertIdsUniqueAndResolved(String html) {
    Set<String> ids = new HashSet<>();
    Matcher id = Pattern.compile(" id=\"([^\"]+)\"").matcher(html);
    while (id.find()) {
      assertThat(ids.add(id.group(1))).as("duplicate id %s", id.group(1)).isTrue();
    }
    Matcher ref = Pattern.compile("url\\(#([^)]+)\\)").matcher(html);
    int refs = 0;
    while (ref.find()) {
      refs++;
      assertThat(ids).contains(ref.group(1));
    }
    assertThat(refs).isPositive();
  }

  @Test
  @Tag("browser") // not in the fast tier (bin/test --fast)
  void loadsInHeadlessChromiumWithChartsAndNoErrors() throws Exception {
    HeadlessChromium.assertLoadsWithCharts(tmp, HtmlReport.render(sample()), List.of(CHARTS), 500);
  }
}
