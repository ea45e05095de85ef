package io.quarry.core.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TextDocumentParserTest {
  private final TextDocumentParser p = new TextDocumentParser(10_000);

  private ParseResult parse(String content, String file) {
    return p.parse(content.getBytes(StandardCharsets.UTF_8), file, "/in/" + file);
  }

  @Test
  void htmlBecomesTitleAndParagraphs() {
    String html = "<html><head><title> Ribosomes </title><style>p{}</style></head><body>"
        + "<h1>Intro</h1><p>First   <b>bold</b> para.</p><script>var x=1;</script>"
        + "<ul><li>one</li><li>two</li></ul><div>tail<br>line</div></body></html>";
    Document d = (Document) parse(html, "a/page.html");
    assertThat(d.id()).isEqualTo("a/page.html");
    assertThat(d.title()).isEqualTo("Ribosomes");
    assertThat(d.text()).isEqualTo("Intro\n\nFirst bold para.\n\none\n\ntwo\n\ntail\nline");
  }

  @Test
  void markdownTitleIsTheFirstHeading() {
    Document d = (Document) parse("intro line\n# The Title\n\nbody", "n.md.gz");
    assertThat(d.title()).isEqualTo("The Title");
    assertThat(d.text()).isEqualTo("intro line\n# The Title\n\nbody");
  }

  @Test
  void txtHasNoTitle() {
    Document d = (Document) parse("\uFEFFplain text", "x.txt");
    assertThat(d.title()).isNull();
    assertThat(d.text()).isEqualTo("plain text");
    assertThat(TextDocumentParser.accepts("x.TXT.bz2")).isTrue();
    assertThat(TextDocumentParser.accepts("x.pdf")).isFalse();
  }

  @Test
  void badFilesAreQuarantined() {
    assertThat(((ParseResult.Quarantined) parse("  \n", "e.txt")).reason()).isEqualTo(QuarantineReason.EMPTY_TEXT);
    assertThat(((ParseResult.Quarantined) parse("<html><script>x</script></html>", "e.html")).reason())
        .isEqualTo(QuarantineReason.EMPTY_TEXT);
    ParseResult r = p.parse(new byte[] {'o', 'k', (byte) 0xFF}, "b.txt", "/in/b.txt");
    assertThat(((ParseResult.Quarantined) r).reason()).isEqualTo(QuarantineReason.INVALID_UTF8);
    assertThat(((ParseResult.Quarantined) r).source()).isEqualTo("/in/b.txt");
    assertThat(((ParseResult.Quarantined) parse("x".repeat(10_001), "big.txt")).reason())
        .isEqualTo(QuarantineReason.OVERSIZE);
  }
}
