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
}
