package io.quarry.report;

import io.quarry.core.eval.Leaderboard;
import io.quarry.core.eval.LeaderboardTable;
import java.awt.geom.Ellipse2D;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Renders a {@link Leaderboard.Result} as one self-contained HTML page ({@code leaderboard.html}): the runs, then per
 * board (final stages first, then each stage) the leaderboard table (the cells of {@link LeaderboardTable#cells}, the same
 * as the Markdown) and the significance table against the baseline; after the final stages' board, two scatter charts
 * of the ranking metric against bytes per vector ({@code chart-quality-bytes}) and against median latency
 * ({@code chart-quality-latency}): one series per stage, one labelled point per run that records the value. Charts as in {@link HtmlReport}: JFreeChart onto Batik's SVG
 * generator, inlined; no script, no external resource; deterministic output.
 */
public final class LeaderboardHtml {
  private LeaderboardHtml() {}

  /** The HTML document. */
  public static String render(Leaderboard.Result r) {
    StringBuilder h = new StringBuilder(64 * 1024);
    HtmlReport.head(h, "Quarry leaderboard (" + r.runs().size() + " evaluations)");
    h.append("<h1>Quarry leaderboard: ").append(r.runs().size()).append(" evaluations, baseline <code>")
        .append(HtmlReport.esc(r.baseline())).append("</code>, ranked by ").append(HtmlReport.esc(r.metric()))
        .append("</h1>\n<table class=\"runs\">");
    tr(h, "th", List.of("run", "run id", "model", "index spec", "index version", "final stage", "queries"), false);
    for (Leaderboard.RunInfo i : r.runs()) {
      tr(h, "td", List.of(i.label(), dash(i.runId()), dash(i.modelId()), dash(i.indexSpec()), dash(i.indexVersion()),
          dash(i.finalStage()), String.valueOf(i.queries())), false);
    }
    h.append("</table>\n<p>").append(HtmlReport.esc(LeaderboardTable.method(r))).append("</p>\n");
    // the final stages first, then the charts (every stage), then one board per stage
    board(h, r, r.boards().get(0));
    chart(h, r, "chart-quality-bytes", "bytes per vector", Leaderboard.Row::bytesPerVector,
        r.metric() + " against index bytes read per vector (one point per run and stage)");
    chart(h, r, "chart-quality-latency", "p50 latency (ms)", Leaderboard.Row::latencyMsP50,
        r.metric() + " against median per-query latency (one point per run and stage)");
    for (Leaderboard.Board b : r.boards().subList(1, r.boards().size())) {
      board(h, r, b);
    }
    h.append("<p class=\"muted\">Means over each evaluation's judged queries; the paired tests use the queries both "
        + "runs evaluated. — : not recorded by that evaluation.</p>\n</body></html>\n");
    return h.toString();
  }

  private static void board(StringBuilder h, Leaderboard.Result r, Leaderboard.Board b) {
    boolean fin = b.name().equals(Leaderboard.FINAL);
    h.append("<h2 id=\"board-").append(HtmlReport.esc(b.name())).append("\">")
        .append(fin ? "Final stage of each run" : "Stage <code>" + HtmlReport.esc(b.name()) + "</code>")
        .append("</h2>\n<table class=\"leaderboard\">");
    tr(h, "th", LeaderboardTable.header(r, b), false);
    for (Leaderboard.Row row : b.rows()) {
      tr(h, "td", LeaderboardTable.cells(r, b, row), row.baseline());
    }
    h.append("</table>\n");
    List<List<String>> sig = LeaderboardTable.significanceRows(b);
    if (!sig.isEmpty()) {
      h.append("<table class=\"significance\">");
      tr(h, "th", LeaderboardTable.significanceHeader(b), false);
      for (List<String> s : sig) {
        tr(h, "td", s, false);
      }
      h.append("</table>\n");
    }
    for (String n : b.notes()) {
      h.append("<p class=\"muted\">").append(HtmlReport.esc(n)).append("</p>\n");
    }
  }

  private static String dash(String s) {
    return s == null ? "—" : s;
  }

  private static void tr(StringBuilder h, String cell, List<String> cells, boolean bold) {
    h.append(bold ? "<tr class=\"final\">" : "<tr>");
    for (String c : cells) {
      h.append('<').append(cell).append('>').append(HtmlReport.esc(c)).append("</").append(cell).append('>');
    }
    h.append("</tr>\n");
  }

  /** A scatter of the ranking metric against {@code x}: a series per stage board, a labelled point per run. */
  private static void chart(StringBuilder h, Leaderboard.Result r, String id, String xLabel,
      Function<Leaderboard.Row, Double> x, String caption) {
    XYSeriesCollection c = new XYSeriesCollection();
    List<List<String>> labels = new ArrayList<>();
    for (Leaderboard.Board b : r.boards()) {
      if (b.name().equals(Leaderboard.FINAL)) {
        continue; // its points are on the stage boards
      }
      XYSeries s = new XYSeries(b.name(), false, true);
      List<String> ls = new ArrayList<>();
      for (Leaderboard.Row row : b.rows()) {
        Double xv = x.apply(row);
        Double yv = row.metrics().get(r.metric());
        if (xv != null && yv != null) {
          s.add(xv, yv);
          ls.add(row.run());
        }
      }
      if (!ls.isEmpty()) {
        c.addSeries(s);
        labels.add(ls);
      }
    }
    if (c.getSeriesCount() == 0) {
      h.append("<p class=\"muted\" id=\"").append(id).append("\">No chart of ").append(HtmlReport.esc(caption))
          .append(": no evaluation records ").append(HtmlReport.esc(xLabel)).append(".</p>\n");
      return;
    }
    JFreeChart chart = SvgCharts.xyChart(xLabel, r.metric(), c);
    XYLineAndShapeRenderer rr = (XYLineAndShapeRenderer) chart.getXYPlot().getRenderer();
    rr.setDefaultLinesVisible(false);
    for (int i = 0; i < c.getSeriesCount(); i++) {
      rr.setSeriesShape(i, new Ellipse2D.Double(-5, -5, 10, 10));
    }
    rr.setDefaultItemLabelGenerator((dataset, series, item) -> labels.get(series).get(item));
    rr.setDefaultItemLabelsVisible(true);
    // room for the labels of the outermost points
    chart.getXYPlot().getRangeAxis().setUpperMargin(0.12);
    chart.getXYPlot().getDomainAxis().setLowerMargin(0.08);
    chart.getXYPlot().getDomainAxis().setUpperMargin(0.08);
    rr.setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE12, TextAnchor.BOTTOM_CENTER));
    SvgCharts.figure(h, id, caption, chart);
  }
}
