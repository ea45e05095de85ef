package io.quarry.core.ingest;

import org.jsoup.Jsoup;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;
import org.jsoup.select.NodeVisitor;

/**
 * HTML to plain text with jsoup (WHATWG HTML5 parsing): the {@code <title>}, and the body's visible text with block
 * elements ({@code p}, headings, list items, table cells, {@code pre}, ...) separated by blank lines so that the
 * recursive chunker sees paragraphs. Scripts, styles and other non-rendered elements are dropped; runs of
 * whitespace inside a block collapse to one space (except inside {@code pre}).
 */
public final class HtmlText {
  private HtmlText() {}

  /**
   * Converted document.
   *
   * @param title the {@code <title>} text, or null if absent/blank
   * @param text the visible text, paragraphs separated by {@code "\n\n"}
   */
  public record Result(String title, String text) {}

  /** Converts one HTML document. */
  public static Result convert(String html) {
    org.jsoup.nodes.Document doc = Jsoup.parse(html);
    String title = doc.title().isBlank() ? null : doc.title().strip();
    doc.select("script, style, noscript, template, head, svg, iframe, object").remove();
    StringBuilder sb = new StringBuilder();
    Element body = doc.body();
    if (body != null) {
      body.traverse(new NodeVisitor() {
        @Override
        public void head(Node node, int depth) {
          if (node instanceof TextNode t) {
            Element parent = t.parent();
            boolean pre = parent != null && parent.closest("pre") != null;
            // TextNode.text() collapses whitespace runs to one space, keeping the source spacing between inlines
            sb.append(pre ? t.getWholeText() : t.text());
          } else if (node instanceof Element e && e.isBlock()) {
            paragraphBreak(sb);
          } else if (node instanceof Element e && e.normalName().equals("br")) {
            sb.append('\n');
          }
        }

        @Override
        public void tail(Node node, int depth) {
          if (node instanceof Element e && e.isBlock()) {
            paragraphBreak(sb);
          }
        }
      });
    }
    String text = sb.toString().replaceAll("[ \\t]*\\n[ \\t]*", "\n").replaceAll("\\n{3,}", "\n\n").strip();
    return new Result(title, text);
  }

  private static void paragraphBreak(StringBuilder sb) {
    int n = sb.length();
    if (n == 0) {
      return;
    }
    if (n >= 2 && sb.charAt(n - 1) == '\n' && sb.charAt(n - 2) == '\n') {
      return;
    }
    sb.append(sb.charAt(n - 1) == '\n' ? "\n" : "\n\n");
  }
}
