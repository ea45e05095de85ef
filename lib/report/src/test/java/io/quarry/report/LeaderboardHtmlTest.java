package io.quarry.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.eval.EvalReport;
import io.quarry.core.eval.Leaderboard;
import io.quarry.core.eval.LeaderboardTable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeaderboardHtmlTest {
  static final List<String> CHARTS = List.of("chart-quality-bytes", "chart-quality-latency");

  @TempDir Path tmp;

  /** An evaluation with stages ivfpq and hybrid; per-query nDCG@10 = base + gain on even queries. */
  static EvalReport eval(String id, double gain, double bytes, double p50) {
    List<EvalReport.StageResult> stages = new ArrayList<>();
    for (String st : List.of("ivfpq", "hybrid")) {
      double off = st.equals("hybrid") ? 0.05 : 0;
      Map<String, Map<String, Double>> pq = new LinkedHashMap<>();
      double sum = 0;
      for (int i = 0; i < 50; i++) {
        double v = 0.4 + off + 0.005 * (i % 10) + (i % 2 == 0 ? gain : 0);
        pq.put("q" + i, Map.of("nDCG@10", v, "MRR@10", v));
        sum += v;
      }
      stages.add(new EvalReport.StageResult(st, "<" + st + ">", "runs/" + st + ".trec", 50, 0,
          Map.of("nDCG@10", sum / 50, "MRR@10", sum / 50), null, p50 * (1 + off * 10), null, pq));
    }
    List<EvalReport.SweepPoint> sweeps = List.of(
        new EvalReport.SweepPoint("ivfpq", "nprobe", 8, Map.of(), null, p50, bytes),
        new EvalReport.SweepPoint("hybrid", "candidates", 100, Map.of(), null, p50, bytes + 384));
    return new EvalReport(EvalReport.SCHEMA_VERSION, id, "h", "bge-small-en-v1.5-q", "v-" + id, "IVF64,PQ" + bytes,
        new EvalReport.Dataset("beir", "q", "x", "r", "y", 50, 60), Map.of(), stages, "hybrid", sweeps, null,
        List.of());
  }

  static Leaderboard.Result result() {
    return Leaderboard.build(List.of(new Leaderboard.Run("pq16 <a&b>", eval("pq16", 0, 20, 1.0)),
        new Leaderboard.Run("pq48", eval("pq48", 0.1, 52, 2.0)), new Leaderboard.Run("pq24", eval("pq24", -0.02,
            28, 1.4))), "pq16 <a&b>", "nDCG@10", Leaderboard.DEFAULT_METRICS, 1000, 42, 0.05);
  }

  @Test
  void rendersTablesAndBothScatterChartsSelfContained() {
    Leaderboard.Result r = result();
    String html = LeaderboardHtml.render(r);
    for (String id : CHARTS) {
      assertThat(html).contains("<figure class=\"chart\" id=\"" + id + "\"><svg");
    }
    assertThat(html).contains("<h2 id=\"board-final\">Final stage of each run</h2>")
        .contains("<h2 id=\"board-ivfpq\">Stage <code>ivfpq</code></h2>");
    // the table cells are the leaderboard's, escaped; the baseline row is highlighted
    Leaderboard.Board fin = r.boards().get(0);
    for (Leaderboard.Row row : fin.rows()) {
      StringBuilder tr = new StringBuilder(row.baseline() ? "<tr class=\"final\">" : "<tr>");
      for (String c : LeaderboardTable.cells(r, fin, row)) {
        tr.append("<td>").append(HtmlReport.esc(c)).append("</td>");
      }
      assertThat(html).contains(tr.append("</tr>"));
    }
    assertThat(html).contains("<td>pq16 &lt;a&amp;b&gt; (baseline)</td>").doesNotContain("pq16 <a&b>");
    assertThat(html).contains(" ▲</td>"); // pq48 gains 0.1 on half the queries
    // the scatter points are labelled with the run names, as text
    assertThat(html).containsPattern("<text[^>]*>pq48</text>").containsPattern("<text[^>]*>bytes per vector</text>");
    assertThat(html).doesNotContain("<script").doesNotContain("<link").doesNotContain("<?xml");
    HtmlReportTest.assertIdsUniqueAndResolved(html);
    assertThat(LeaderboardHtml.render(result())).isEqualTo(html); // deterministic
  }

  @Test
  void saysSoWhenNoEvaluationRecordsTheChartSAxis() {
    EvalReport a = eval("a", 0, 20, 1.0);
    EvalReport b = eval("b", 0.1, 52, 2.0);
    EvalReport noBytes = new EvalReport(a.schemaVersion(), "a", "h", "m", null, null, a.dataset(), Map.of(),
        a.stages(), "hybrid", List.of(), null, List.of());
    EvalReport noBytesB = new EvalReport(b.schemaVersion(), "b", "h", "m", null, null, b.dataset(), Map.of(),
        b.stages(), "hybrid", List.of(), null, List.of());
    String html = LeaderboardHtml.render(Leaderboard.build(List.of(new Leaderboard.Run("a", noBytes),
        new Leaderboard.Run("b", noBytesB)), "a", "nDCG@10", Leaderboard.DEFAULT_METRICS, 100, 1, 0.05));
    assertThat(html).contains("<p class=\"muted\" id=\"chart-quality-bytes\">No chart of")
        .contains("<figure class=\"chart\" id=\"chart-quality-latency\">");
  }

  @Test
  @Tag("browser") // not in the fast tier (bin/test --fast)
  void loadsInHeadlessChromiumWithChartsAndNoErrors() throws Exception {
    // 12 points of 10 px: ~4 samples each, plus the legends' markers
    HeadlessChromium.assertLoadsWithCharts(tmp, LeaderboardHtml.render(result()), CHARTS, 30);
  }
}
