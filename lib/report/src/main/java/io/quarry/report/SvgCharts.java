package io.quarry.report;

import io.quarry.core.eval.EvalReport;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Dimension;
import java.awt.Font;
import java.awt.Rectangle;
import java.io.StringWriter;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.apache.batik.svggen.SVGGeneratorContext;
import org.apache.batik.svggen.SVGGraphics2D;
import org.apache.batik.svggen.SVGIDGenerator;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The charts of the HTML reports (evaluation report and leaderboard): JFreeChart charts drawn as inline SVG by Batik,
 * each element id prefixed with the chart's id so that several charts share one page.
 */
final class SvgCharts {
  private static final String SVG_NS = "http://www.w3.org/2000/svg";
  private static final int W = 720;
  private static final int H = 360;

  private SvgCharts() {}

  static void styleBars(JFreeChart c) {
    c.setBackgroundPaint(Color.WHITE);
    CategoryPlot p = c.getCategoryPlot();
    p.setBackgroundPaint(Color.WHITE);
    p.setRangeGridlinePaint(Color.LIGHT_GRAY);
    BarRenderer br = (BarRenderer) p.getRenderer();
    br.setBarPainter(new StandardBarPainter());
    br.setShadowVisible(false);
  }

  interface Getter {
    Double get(EvalReport.SweepPoint p);
  }

  static XYSeries series(String name, List<EvalReport.SweepPoint> pts, Getter x, Getter y) {
    XYSeries s = new XYSeries(name, false, true);
    for (EvalReport.SweepPoint p : pts) {
      Double xv = x.get(p);
      Double yv = y.get(p);
      if (xv != null && yv != null) {
        s.add(xv, yv);
      }
    }
    return s;
  }

  static JFreeChart xyChart(String xLabel, String yLabel, XYSeriesCollection c) {
    JFreeChart chart = ChartFactory.createXYLineChart(null, xLabel, yLabel, c, PlotOrientation.VERTICAL, true, false,
        false);
    chart.setBackgroundPaint(Color.WHITE);
    XYPlot p = chart.getXYPlot();
    p.setBackgroundPaint(Color.WHITE);
    p.setDomainGridlinePaint(Color.LIGHT_GRAY);
    p.setRangeGridlinePaint(Color.LIGHT_GRAY);
    XYLineAndShapeRenderer rr = new XYLineAndShapeRenderer(true, true);
    Color[] palette = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
        new Color(0x9467bd), new Color(0x8c564b)};
    for (int i = 0; i < c.getSeriesCount(); i++) {
      rr.setSeriesStroke(i, new BasicStroke(2f));
      rr.setSeriesPaint(i, palette[i % palette.length]);
    }
    p.setRenderer(rr);
    ((NumberAxis) p.getRangeAxis()).setAutoRangeIncludesZero(false);
    ((NumberAxis) p.getDomainAxis()).setAutoRangeIncludesZero(false);
    chart.getLegend().setItemFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    return chart;
  }

  static void figure(StringBuilder h, String id, String caption, JFreeChart chart) {
    h.append("<figure class=\"chart\" id=\"").append(id).append("\">").append(svg(id, chart))
        .append("<figcaption>").append(HtmlReport.esc(caption)).append("</figcaption></figure>\n");
  }

  /** The chart as one {@code <svg id="<id>-svg">} element (no XML declaration), scalable through its viewBox. */
  static String svg(String id, JFreeChart chart) {
    Document doc;
    try {
      doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().getDOMImplementation()
          .createDocument(SVG_NS, "svg", null);
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException("no XML DOM implementation", e);
    }
    SVGGeneratorContext ctx = SVGGeneratorContext.createDefault(doc);
    ctx.setComment(null);
    ctx.setEmbeddedFontsOn(false);
    ctx.setPrecision(3);
    String prefix = id.replace('-', '_') + "_";
    ctx.setIDGenerator(new SVGIDGenerator() {
      @Override
      public String generateID(String p) {
        return super.generateID(prefix + p);
      }
    });
    SVGGraphics2D g = new SVGGraphics2D(ctx, false);
    g.setSVGCanvasSize(new Dimension(W, H));
    chart.draw(g, new Rectangle(0, 0, W, H));
    Element root = g.getRoot();
    // Batik's one fixed id (the "genericDefs" element) made unique to the chart too
    NodeList all = root.getElementsByTagName("*");
    for (int i = 0; i < all.getLength(); i++) {
      Element e = (Element) all.item(i);
      if (e.hasAttribute("id") && !e.getAttribute("id").startsWith(prefix)) {
        e.setAttribute("id", prefix + e.getAttribute("id"));
      }
    }
    root.setAttribute("id", id + "-svg");
    root.setAttribute("viewBox", "0 0 " + W + " " + H);
    g.dispose();
    // serialized without XML declaration or doctype: the element goes inside an HTML document
    StringWriter w = new StringWriter(32 * 1024);
    try {
      Transformer t = TransformerFactory.newInstance().newTransformer();
      t.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
      t.setOutputProperty(OutputKeys.METHOD, "xml");
      t.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
      t.transform(new DOMSource(root), new StreamResult(w));
    } catch (TransformerException e) {
      throw new IllegalStateException("cannot serialize the SVG of " + id, e);
    }
    return w.toString();
  }
}
