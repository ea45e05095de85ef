package io.quarry.core.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JsonDocumentParserTest {
  private final JsonDocumentParser beir = JsonDocumentParser.beir(100);

  private ParseResult parse(String line) {
    return beir.parse(line.getBytes(StandardCharsets.UTF_8), "corpus.jsonl:7");
  }

  private static QuarantineReason reason(ParseResult r) {
    assertThat(r).isInstanceOf(ParseResult.Quarantined.class);
    ParseResult.Quarantined q = (ParseResult.Quarantined) r;
    assertThat(q.source()).isEqualTo("corpus.jsonl:7");
    return q.reason();
  }

  @Test
  void parsesABeirRecord() {
    ParseResult r = parse("{\"_id\": \"4983\", \"title\": \"Microstructural development\", \"text\": \"Alterations\","
        + " \"metadata\": {}}");
    assertThat(r).isEqualTo(new Document("4983", "Microstructural development", "Alterations", "corpus.jsonl:7"));
  }

  @Test
  void integerIdsAndMissingTitleAreFine() {
    assertThat(parse("{\"_id\": 12, \"text\": \"x\"}")).isEqualTo(new Document("12", null, "x", "corpus.jsonl:7"));
    assertThat(parse("{\"_id\": \"a\", \"title\": \"  \", \"text\": \"x\"}"))
        .isEqualTo(new Document("a", null, "x", "corpus.jsonl:7"));
  }

  @Test
  void quarantineReasons() {
    assertThat(reason(parse("{\"_id\": \"1\", \"text\": \"unterminated"))).isEqualTo(QuarantineReason.MALFORMED_JSON);
    assertThat(reason(parse("[1, 2]"))).isEqualTo(QuarantineReason.MALFORMED_JSON);
    assertThat(reason(parse(""))).isEqualTo(QuarantineReason.MALFORMED_JSON);
    assertThat(reason(parse("{\"text\": \"no id\"}"))).isEqualTo(QuarantineReason.MISSING_ID);
    assertThat(reason(parse("{\"_id\": \"  \", \"text\": \"blank id\"}"))).isEqualTo(QuarantineReason.MISSING_ID);
    assertThat(reason(parse("{\"_id\": {\"a\": 1}, \"text\": \"object id\"}"))).isEqualTo(QuarantineReason.MISSING_ID);
    assertThat(reason(parse("{\"_id\": \"1\", \"title\": \"t\"}"))).isEqualTo(QuarantineReason.MISSING_TEXT);
    assertThat(reason(parse("{\"_id\": \"1\", \"text\": 5}"))).isEqualTo(QuarantineReason.MISSING_TEXT);
    assertThat(reason(parse("{\"_id\": \"1\", \"text\": \" \\n\\t \"}"))).isEqualTo(QuarantineReason.EMPTY_TEXT);
    assertThat(reason(parse("{\"_id\": \"1\", \"text\": \"" + "x".repeat(101) + "\"}")))
        .isEqualTo(QuarantineReason.OVERSIZE);
    byte[] bad = {'{', '"', '_', 'i', 'd', '"', ':', '"', '1', '"', ',', '"', 't', 'e', 'x', 't', '"', ':', '"',
        (byte) 0xC3, (byte) 0x28, '"', '}'};
    ParseResult r = beir.parse(bad, "corpus.jsonl:7");
    assertThat(reason(r)).isEqualTo(QuarantineReason.INVALID_UTF8);
    assertThat(((ParseResult.Quarantined) r).detail()).contains("UTF-8");
  }

  @Test
  void configurableFields() {
    JsonDocumentParser p = new JsonDocumentParser("doc", "", "body", 1000);
    assertThat(p.parse("{\"doc\": \"d\", \"title\": \"ignored\", \"body\": \"b\"}", "f:1"))
        .isEqualTo(new Document("d", null, "b", "f:1"));
  }

  private static ParseResult.Quarantined quarantined(ParseResult r) {
    assertThat(r).isInstanceOf(ParseResult.Quarantined.class);
    return (ParseResult.Quarantined) r;
  }

  @Test
  void twoObjectsOnOneLineAreQuarantinedWholeAsTrailingData() {
    String line = "{\"_id\": \"a\", \"text\": \"first\"}{\"_id\": \"b\", \"text\": \"second\"}";
    ParseResult.Quarantined q = quarantined(parse(line));
    assertThat(reason(q)).isEqualTo(QuarantineReason.TRAILING_DATA);
    assertThat(q.docId()).isEqualTo("a");
    assertThat(q.detail()).contains("second JSON object").contains("column 30");
    assertThat(q.raw()).isEqualTo(line); // b's text is recoverable from the quarantine record
  }

  @Test
  void junkAfterTheObjectIsTrailingDataButTrailingWhitespaceIsFine() {
    assertThat(reason(parse("{\"_id\": \"a\", \"text\": \"x\"} junk"))).isEqualTo(QuarantineReason.TRAILING_DATA);
    assertThat(reason(parse("{\"_id\": \"a\", \"text\": \"x\"},"))).isEqualTo(QuarantineReason.TRAILING_DATA);
    assertThat(reason(parse("{\"_id\": \"a\", \"text\": \"x\"} 7"))).isEqualTo(QuarantineReason.TRAILING_DATA);
    assertThat(parse("{\"_id\": \"a\", \"text\": \"x\"}  \t")).isEqualTo(new Document("a", null, "x", "corpus.jsonl:7"));
  }

  @Test
  void aByteOrderMarkIsStripped() {
    byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    byte[] rec = "{\"_id\": \"a\", \"text\": \"x\"}".getBytes(StandardCharsets.UTF_8);
    byte[] line = new byte[bom.length + rec.length];
    System.arraycopy(bom, 0, line, 0, 3);
    System.arraycopy(rec, 0, line, 3, rec.length);
    assertThat(beir.parse(line, "corpus.jsonl:7")).isEqualTo(new Document("a", null, "x", "corpus.jsonl:7"));
  }

  @Test
  void loneSurrogatesAreInvalidUnicodeWithTheId() {
    ParseResult.Quarantined q = quarantined(parse("{\"_id\": \"s1\", \"text\": \"bad \\ud800 char\"}"));
    assertThat(reason(q)).isEqualTo(QuarantineReason.INVALID_UNICODE);
    assertThat(q.docId()).isEqualTo("s1");
    assertThat(q.detail()).contains("text").contains("U+D800");
    assertThat(reason(parse("{\"_id\": \"s2\", \"title\": \"\\udc00\", \"text\": \"ok\"}")))
        .isEqualTo(QuarantineReason.INVALID_UNICODE);
    // a proper pair (an emoji) is fine
    assertThat(parse("{\"_id\": \"s3\", \"text\": \"\\ud83d\\ude00\"}"))
        .isEqualTo(new Document("s3", null, "\ud83d\ude00", "corpus.jsonl:7"));
  }

  @Test
  void zeroWidthOnlyTextIsEmptyTextWithItsId() {
    ParseResult.Quarantined q = quarantined(parse("{\"_id\": \"zw\", \"text\": \"\u200b\u200c\u200d\ufeff \u2060\"}"));
    assertThat(reason(q)).isEqualTo(QuarantineReason.EMPTY_TEXT);
    assertThat(q.docId()).isEqualTo("zw");
    assertThat(q.detail()).contains("zero-width");
  }

  @Test
  void idsATrecRunCannotCarryAreInvalidId() {
    ParseResult.Quarantined q = quarantined(parse("{\"_id\": \"doc 1\", \"text\": \"x\"}"));
    assertThat(reason(q)).isEqualTo(QuarantineReason.INVALID_ID);
    assertThat(q.docId()).isEqualTo("doc 1");
    assertThat(reason(parse("{\"_id\": \"doc\\t1\", \"text\": \"x\"}"))).isEqualTo(QuarantineReason.INVALID_ID);
  }
}
