package io.quarry.core.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EvalFormatsTest {
  private static BufferedReader r(String s) {
    return new BufferedReader(new StringReader(s));
  }

  @Test
  void beirQrelsWithHeaderAndCrlf() {
    Qrels q = Qrels.read("beir", "test.tsv", r("query-id\tcorpus-id\tscore\r\n1\t31715818\t1\r\n13\t1606628\t2\r\n\r\n"));
    assertThat(q.queryIds()).containsExactly("1", "13");
    assertThat(q.judgments("13")).containsEntry("1606628", 2);
    assertThat(q.size()).isEqualTo(2);
  }

  @Test
  void trecQrels() {
    Qrels q = Qrels.read("trec", "q.txt", r("301 0 FBIS3-10082 1\n301 0 FBIS3-10169 0\n302 Q0 D1 2\n"));
    assertThat(q.numRelevant("301")).isEqualTo(1);
    assertThat(q.judgments("302")).containsEntry("D1", 2);
  }

  @Test
  void malformedQrelsNameFileLineAndField() {
    assertThatThrownBy(() -> Qrels.read("beir", "qrels/test.tsv", r("query-id\tcorpus-id\tscore\n1\t2\tx\n")))
        .isInstanceOf(EvalInputException.class).hasMessage("qrels/test.tsv:2: field 'score' must be an integer grade, got 'x'");
    assertThatThrownBy(() -> Qrels.read("beir", "t.tsv", r("1\t2\n")))
        .hasMessageStartingWith("t.tsv:1: expected 3 tab-separated fields");
    assertThatThrownBy(() -> Qrels.read("beir", "t.tsv", r("1\ta\t1\n1\ta\t2\n")))
        .hasMessageContaining("t.tsv:2: document 'a' judged twice");
  }

  @Test
  void beirQueries() {
    Map<String, String> q = Queries.read("beir", "queries.jsonl",
        r("{\"_id\": \"1\", \"text\": \"0-dimensional biomaterials\", \"metadata\": {}}\r\n{\"_id\": 2, \"text\": \"b\"}\n"));
    assertThat(q).containsExactly(Map.entry("1", "0-dimensional biomaterials"), Map.entry("2", "b"));
    assertThatThrownBy(() -> Queries.read("beir", "queries.jsonl", r("{\"_id\": \"1\"}\n")))
        .hasMessage("queries.jsonl:1: field 'text' missing or not a string");
    assertThatThrownBy(() -> Queries.read("beir", "queries.jsonl", r("{\"_id\":\"1\",\"text\":\"a\"}\n{oops\n")))
        .hasMessageStartingWith("queries.jsonl:2: not a JSON object");
  }

  @Test
  void trecTopicsSgmlAndTsv() {
    String sgml = "<top>\n<num> Number: 301\n<title> International Organized Crime\n\n<desc> Description:\nIdentify..."
        + "\n</top>\n\n<top>\n<num> Number: 302 \n<title>Poliomyelitis and Post-Polio\n<desc> x\n</top>\n";
    assertThat(Queries.read("trec", "topics.301", r(sgml))).containsExactly(
        Map.entry("301", "International Organized Crime"), Map.entry("302", "Poliomyelitis and Post-Polio"));
    assertThat(Queries.read("trec", "topics.tsv", r("1\tfirst query\r\n2\tsecond\n")))
        .containsEntry("1", "first query").containsEntry("2", "second");
    assertThatThrownBy(() -> Queries.read("trec", "t.tsv", r("1\ta\n1\tb\n"))).hasMessage("t.tsv:2: duplicate query id '1'");
  }

  @Test
  void runRoundTripsInTrecOrder() throws Exception {
    Map<String, List<ScoredDoc>> run = new LinkedHashMap<>();
    run.put("q1", List.of(new ScoredDoc("a", 0.5), new ScoredDoc("b", 0.5), new ScoredDoc("c", 0.123456789012345)));
    StringWriter w = new StringWriter();
    TrecRunFormat.write(run, "dense", w);
    assertThat(w.toString()).isEqualTo("q1 Q0 b 1 0.5 dense\nq1 Q0 a 2 0.5 dense\nq1 Q0 c 3 0.123456789012345 dense\n");
    Map<String, List<ScoredDoc>> back = TrecRunFormat.read("run.trec", r(w.toString()));
    assertThat(back.get("q1")).containsExactly(new ScoredDoc("b", 0.5), new ScoredDoc("a", 0.5),
        new ScoredDoc("c", 0.123456789012345));
    assertThatThrownBy(() -> TrecRunFormat.read("run.trec", r("q1 Q0 a 1 x t\n")))
        .hasMessage("run.trec:1: field 'score' is not a number: 'x'");
  }
}
