package io.quarry.report;

import io.quarry.core.eval.EvalReport;
import io.quarry.core.eval.LossAttribution;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.batik.svggen.SVGGraphics2D;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.text.TextUtils;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Renders an {@link EvalReport} as one self-contained {@code report.html}: summary, per-stage metric table and bar
 * chart, sweep curves (quality against the swept parameter, against per-query latency and against bytes per
 * vector), loss attribution chart and examples, notes. Charts are drawn with JFreeChart onto Apache Batik's
 * {@link SVGGraphics2D} (text kept as {@code <text>}) and inlined as {@code <svg>} elements, each inside a {@code <figure class="chart">} with an
 * id ({@code chart-metrics}, {@code chart-nprobe}, {@code chart-latency}, {@code chart-bytes},
 * {@code chart-candidates}, {@code chart-rrfk}, {@code chart-loss}); there is no script and no external resource.
 * Output is deterministic for a given report: SVG definition ids (clip paths) are numbered per chart and prefixed
 * with the chart's id, so the charts of one page never share an id.
 *
 * <p>Needs a headless-capable JDK ({@code java.awt.headless=true} is set if unset): fonts come from the JDK.
 */
public final class HtmlReport {
  private static final String[] HEADLINE = {"nDCG@10", "Recall@100", "MRR@10"};

  private HtmlReport() {}

  /** The HTML document. */
  public static String render(EvalReport r) {
    StringBuilder h = new StringBuilder(64 * 1024);
    head(h, "Quarry evaluation " + r.runId());
    h.append("<h1>Quarry evaluation <code>").append(esc(r.runId())).append("</code></h1>\n");
    summary(h, r);
    stages(h, r);
    SvgCharts.figure(h, "chart-metrics", "Headline metrics per stage", metricsChart(r));
    gain(h, r);
    tuning(h, r);
    sweeps(h, r);
    loss(h, r);
    if (r.notes() != null && !r.notes().isEmpty()) {
      h.append("<h2>Notes</h2><ul>");
      for (String n : r.notes()) {
        h.append("<li>").append(esc(n)).append("</li>");
      }
      h.append("</ul>\n");
    }
    h.append("<p class=\"muted\">Metrics follow trec_eval (ndcg_cut, recall, P, recip_rank on the top k, map, success);"
        + " documents are ranked by their best chunk's score; every judged query counts, one without a relevant"
        + " document scores 0. Latencies are per-query wall times of the search call on one thread, query embedding"
        + " excluded.</p>\n</body></html>\n");
    return h.toString();
  }

  /**
   * Starts a page: doctype, head with {@code title} (escaped here) and the reports' one style sheet, opening
   * {@code <body>}. Also prepares JFreeChart for SVG output (headless AWT, the JFree theme, rotated labels as text).
   */
  static void head(StringBuilder h, String title) {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
    ChartFactory.setChartTheme(StandardChartTheme.createJFreeTheme());
    // rotated labels (the vertical axis titles) through drawString, so they stay <text> in the SVG instead of the
    // workaround's TextLayout glyph outlines
    TextUtils.setUseDrawRotatedStringWorkaround(false);
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<title>").append(esc(title)).append("</title><style>")
        .append("body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;")
        .append("color:#222;padding:0 1em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;")
        .append("padding:4px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}")
        .append("figure.chart{margin:1em 0}figure.chart svg{max-width:100%;height:auto}code{background:#f6f6f6;")
        .append("padding:0 3px}.final{font-weight:bold}.muted{color:#666}")
        .append("</style></head><body>\n");
  }

  private static void summary(StringBuilder h, EvalReport r) {
    EvalReport.Dataset d = r.dataset();
    h.append("<table class=\"summary\">");
    row(h, "queries", "<code>" + esc(d.queries()) + "</code> (" + esc(d.format()) + ", sha256 <code>"
        + esc(d.queriesSha256()) + "</code>)");
    row(h, "qrels", "<code>" + esc(d.qrels()) + "</code> (sha256 <code>" + esc(d.qrelsSha256()) + "</code>)");
    row(h, "judged queries / judgments", d.queryCount() + " / " + d.judgments());
    row(h, "index version", r.indexVersion() == null ? "—" : "<code>" + esc(r.indexVersion()) + "</code>");
    row(h, "index spec", r.indexSpec() == null ? "—" : "<code>" + esc(r.indexSpec()) + "</code>");
    row(h, "embedding model", "<code>" + esc(r.modelId()) + "</code>");
    row(h, "config hash", "<code>" + esc(r.configHash()) + "</code>");
    if (r.parameters() != null) {
      List<String> ps = new ArrayList<>();
      r.parameters().forEach((k, v) -> ps.add(esc(k) + "=" + esc(String.valueOf(v))));
      row(h, "parameters", String.join(", ", ps));
    }
    h.append("</table>\n");
  }

  private static void row(StringBuilder h, String k, String v) {
    h.append("<tr><th>").append(esc(k)).append("</th><td style=\"text-align:left\">").append(v).append("</td></tr>");
  }

  private static List<String> metricNames(EvalReport r) {
    return new ArrayList<>(r.stages().get(0).metrics().keySet());
  }

  private static void stages(StringBuilder h, EvalReport r) {
    List<String> ms = metricNames(r);
    h.append("<h2>Metrics per stage</h2>\n<table class=\"stages\"><tr><th>stage</th>");
    for (String m : ms) {
      h.append("<th>").append(esc(m)).append("</th>");
    }
    h.append("<th>ANN recall</th><th>p50 ms</th><th>p95 ms</th><th>run</th><th>what ran</th></tr>\n");
    for (EvalReport.StageResult s : r.stages()) {
      boolean fin = s.name().equals(r.finalStage());
      h.append("<tr").append(fin ? " class=\"final\"" : "").append("><td>").append(esc(s.name()))
          .append(fin ? " (final)" : "").append("</td>");
      for (String m : ms) {
        h.append("<td>").append(f4(s.metrics().get(m))).append("</td>");
      }
      h.append("<td>").append(f4(s.annRecall())).append("</td><td>").append(f2(s.latencyMsP50())).append("</td><td>")
          .append(f2(s.latencyMsP95())).append("</td><td><code>").append(esc(s.runFile())).append("</code></td><td "
              + "style=\"text-align:left\">").append(esc(s.description())).append("</td></tr>\n");
    }
    h.append("</table>\n");
  }

  private static void sweeps(StringBuilder h, EvalReport r) {
    if (r.sweeps() == null || r.sweeps().isEmpty()) {
      return;
    }
    h.append("<h2>Sweeps</h2>\n");
    Map<String, List<EvalReport.SweepPoint>> by = new LinkedHashMap<>();
    for (EvalReport.SweepPoint p : r.sweeps()) {
      by.computeIfAbsent(p.parameter(), x -> new ArrayList<>()).add(p);
    }
    List<EvalReport.SweepPoint> np = by.get("nprobe");
    if (np != null) {
      XYSeriesCollection c = new XYSeriesCollection();
      for (String m : HEADLINE) {
        c.addSeries(SvgCharts.series(m, np, p -> (double) p.value(), p -> p.metrics().get(m)));
      }
      c.addSeries(SvgCharts.series("ANN recall", np, p -> (double) p.value(),
          EvalReport.SweepPoint::annRecall));
      JFreeChart chart = SvgCharts.xyChart("nprobe", "value", c);
      LogAxis log2 = new LogAxis("nprobe (log scale)");
      log2.setBase(2);
      log2.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
      log2.setSmallestValue(0.5);
      chart.getXYPlot().setDomainAxis(log2);
      SvgCharts.figure(h, "chart-nprobe", "Stage ivfpq (IVF-PQ ADC): quality against nprobe", chart);
    }
    XYSeriesCollection lat = new XYSeriesCollection();
    XYSeriesCollection bytes = new XYSeriesCollection();
    by.forEach((param, pts) -> {
      String name = pts.get(0).stage() + " by " + param;
      lat.addSeries(SvgCharts.series(name, pts, EvalReport.SweepPoint::latencyMsP50, p -> p.metrics().get("nDCG@10")));
      bytes.addSeries(SvgCharts.series(name, pts, EvalReport.SweepPoint::bytesPerVector,
          p -> p.metrics().get("nDCG@10")));
    });
    SvgCharts.figure(h, "chart-latency", "nDCG@10 against median per-query latency (ms)",
        SvgCharts.xyChart("p50 latency (ms)", "nDCG@10", lat));
    SvgCharts.figure(h, "chart-bytes", "nDCG@10 against index bytes read per vector",
        SvgCharts.xyChart("bytes per vector", "nDCG@10", bytes));
    for (String param : List.of("candidates", "rrfK")) {
      List<EvalReport.SweepPoint> pts = by.get(param);
      if (pts == null) {
        continue;
      }
      XYSeriesCollection c = new XYSeriesCollection();
      for (String m : HEADLINE) {
        c.addSeries(SvgCharts.series(m, pts, p -> (double) p.value(), p -> p.metrics().get(m)));
      }
      SvgCharts.figure(h, "chart-" + param.toLowerCase(Locale.ROOT), pts.get(0).stage() + ": quality against "
          + param, SvgCharts.xyChart(param, "value", c));
    }
    sweepTable(h, r);
  }

  private static void sweepTable(StringBuilder h, EvalReport r) {
    List<String> ms = metricNames(r);
    h.append("<table class=\"sweeps\"><tr><th>stage</th><th>parameter</th><th>value</th>");
    for (String m : ms) {
      h.append("<th>").append(esc(m)).append("</th>");
    }
    h.append("<th>ANN recall</th><th>p50 ms</th><th>bytes/vector</th></tr>\n");
    for (EvalReport.SweepPoint p : r.sweeps()) {
      h.append("<tr><td>").append(esc(p.stage())).append("</td><td>").append(esc(p.parameter())).append("</td><td>")
          .append(p.value()).append("</td>");
      for (String m : ms) {
        h.append("<td>").append(f4(p.metrics().get(m))).append("</td>");
      }
      h.append("<td>").append(f4(p.annRecall())).append("</td><td>").append(f2(p.latencyMsP50())).append("</td><td>")
          .append(f2(p.bytesPerVector())).append("</td></tr>\n");
    }
    h.append("</table>\n");
  }

  private static void gain(StringBuilder h, EvalReport r) {
    EvalReport.FinalGain g = r.gain();
    if (g == null) {
      return;
    }
    h.append(String.format(Locale.ROOT, "<p id=\"gain\"><b>Final stage <code>%s</code> vs the best single-signal "
        + "stage <code>%s</code></b> on %s: %.4f vs %.4f, <b>%+.4f</b> (better on %d queries, worse on %d; paired "
        + "randomization test p = %.4f, paired t-test p = %.4f).</p>%n", esc(g.finalStage()), esc(g.baseline()),
        esc(g.metric()), g.finalValue(), g.baselineValue(), g.delta(), g.improved(), g.worse(), g.pRandomization(),
        g.pTTest()));
  }

  private static void tuning(StringBuilder h, EvalReport r) {
    EvalReport.Tuning t = r.tuning();
    if (t == null || t.curve() == null || t.curve().isEmpty()) {
      return;
    }
    h.append("<h2>Tuning of the hybrid stage</h2>\n<p>Chosen by <code>quarry tune</code> on <code>")
        .append(esc(t.tunedOn())).append("</code> (training qrels, never the evaluated ones): <code>")
        .append(esc(t.chosen())).append("</code>, ").append(esc(t.objective())).append(' ').append(f4(t.value()))
        .append(" on the training queries; within 0.005 of the best over ").append(esc(t.flatRange()))
        .append(".</p>\n");
    XYSeriesCollection c = new XYSeriesCollection();
    XYSeries curve = new XYSeries(t.objective() + " (fusion)");
    int i = 0;
    for (Map.Entry<String, Double> e : t.curve().entrySet()) {
      String v = e.getKey().substring(e.getKey().indexOf('=') + 1);
      double x;
      try {
        x = Double.parseDouble(v);
      } catch (NumberFormatException ex) {
        x = i;
      }
      curve.add(x, e.getValue());
      i++;
    }
    c.addSeries(curve);
    if (t.singleStages() != null) {
      for (Map.Entry<String, Double> e : t.singleStages().entrySet()) {
        XYSeries flat = new XYSeries(e.getKey() + " alone");
        flat.add(curve.getMinX(), e.getValue());
        flat.add(curve.getMaxX(), e.getValue());
        c.addSeries(flat);
      }
    }
    String axis = t.curve().keySet().iterator().next();
    SvgCharts.figure(h, "chart-tuning", "Training " + t.objective() + " over the fusion's "
        + axis.substring(0, axis.indexOf('=')) + " (dense weight), single signals for reference",
        SvgCharts.xyChart(axis.substring(0, axis.indexOf('=')), t.objective(), c));
  }

  private static void loss(StringBuilder h, EvalReport r) {
    LossAttribution.Summary l = r.loss();
    if (l == null) {
      return;
    }
    h.append("<h2>Loss attribution</h2>\n<p>").append(l.found()).append(" of ").append(l.relevant())
        .append(" relevant (query, document) pairs are in the final top ").append(l.k())
        .append("; each missing one is attributed to the first stage that lost it.</p>\n");
    DefaultCategoryDataset ds = new DefaultCategoryDataset();
    l.counts().forEach((cause, n) -> ds.addValue(n, "lost documents", cause));
    JFreeChart c = ChartFactory.createBarChart(null, null, "relevant documents lost", ds, PlotOrientation.HORIZONTAL,
        false, false, false);
    SvgCharts.styleBars(c);
    SvgCharts.figure(h, "chart-loss", "Where relevant documents were lost", c);
    h.append("<table class=\"loss\"><tr><th>lost at</th><th>count</th><th>examples (query/doc)</th></tr>\n");
    l.counts().forEach((cause, n) -> h.append("<tr><td>").append(esc(cause)).append("</td><td>").append(n)
        .append("</td><td style=\"text-align:left\">").append(esc(String.join(", ",
            l.examples().getOrDefault(cause, List.of())))).append("</td></tr>\n"));
    h.append("</table>\n");
  }

  private static JFreeChart metricsChart(EvalReport r) {
    DefaultCategoryDataset ds = new DefaultCategoryDataset();
    for (String m : HEADLINE) {
      for (EvalReport.StageResult s : r.stages()) {
        Double v = s.metrics().get(m);
        if (v != null) {
          ds.addValue(v, m, s.name());
        }
      }
    }
    JFreeChart c = ChartFactory.createBarChart(null, "stage", "mean over judged queries", ds,
        PlotOrientation.VERTICAL, true, false, false);
    SvgCharts.styleBars(c);
    ((NumberAxis) c.getCategoryPlot().getRangeAxis()).setRange(0, 1);
    return c;
  }

  static String f4(Double v) {
    return v == null ? "—" : String.format(Locale.ROOT, "%.4f", v);
  }

  static String f2(Double v) {
    return v == null ? "—" : String.format(Locale.ROOT, "%.2f", v);
  }

  /** Escapes text for HTML element content and attribute values. */
  static String esc(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length());
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(ch);
      }
    }
    return b.toString();
  }
}
