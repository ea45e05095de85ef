package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.search.FusionSpec;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.search.SearchOptions;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SearchApiTest {
  static final SearchApi.Limits L = new SearchApi.Limits(50, 20, 200, 64, 4096);

  static HybridSearcher.Request parse(String json) throws SearchApi.BadRequest {
    return SearchApi.parse(json.getBytes(StandardCharsets.UTF_8), L);
  }

  @Test
  void defaultsAndExplicitValues() throws Exception {
    HybridSearcher.Request r = parse("{\"query\":\"stem cells\"}");
    assertThat(r.k()).isEqualTo(10);
    assertThat(r.mode()).isEqualTo(SearchOptions.Mode.HYBRID);
    // tunable fields unset: the index version's tuned defaults (else the built-in ones) apply at search time
    assertThat(r.options().fusion()).isNull();
    assertThat(r.options().nprobe()).isNull();
    assertThat(r.options().bm25Depth()).isNull();
    r = parse("{\"query\":\"q\",\"k\":5,\"mode\":\"BM25\",\"nprobe\":8,\"bm25Depth\":50,\"denseDepth\":60,"
        + "\"rescoreDepth\":0,\"rerank\":false,\"fusion\":\"wrrf:k=10,alpha=0.7\",\"withText\":false}");
    assertThat(r.k()).isEqualTo(5);
    assertThat(r.mode()).isEqualTo(SearchOptions.Mode.BM25);
    assertThat(r.options().rescoreDepth()).isZero();
    assertThat(r.options().withText()).isFalse();
    assertThat(r.options().nprobe()).isEqualTo(8);
    assertThat(r.options().bm25Depth()).isEqualTo(50);
    assertThat(r.options().fusion()).isEqualTo(new FusionSpec(new io.quarry.core.search.fusion.WeightedRrf(10, 0.7)));
  }

  @Test
  void modesInTheStageVocabularyAndTheOldDenseWithAWarning() throws Exception {
    assertThat(parse("{\"query\":\"q\",\"mode\":\"ivfpq\"}").mode()).isEqualTo(SearchOptions.Mode.IVFPQ);
    assertThat(parse("{\"query\":\"q\",\"mode\":\"rescore\"}").mode()).isEqualTo(SearchOptions.Mode.RESCORE);
    SearchApi.Parsed p = SearchApi.parseRequest("{\"query\":\"q\",\"mode\":\"dense\",\"rescoreDepth\":30}"
        .getBytes(StandardCharsets.UTF_8), L);
    assertThat(p.request().mode()).isEqualTo(SearchOptions.Mode.RESCORE);
    assertThat(p.request().options().rescoreDepth()).isEqualTo(30);
    assertThat(p.warnings()).singleElement().asString().contains("'dense' is deprecated").contains("'rescore'");
    assertThat(SearchApi.parseRequest("{\"query\":\"q\",\"mode\":\"rescore\"}".getBytes(StandardCharsets.UTF_8),
        L).warnings()).isEmpty();
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"mode\":\"exact\"}"))
        .hasMessageContaining("bm25, ivfpq, rescore or hybrid");
  }

  @Test
  void rejectsBadRequestsWithTheFieldName() {
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"path\":\"/etc/passwd\"}"))
        .isInstanceOf(SearchApi.BadRequest.class).hasMessageContaining("unknown field 'path'");
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"k\":\"10\"}")).hasMessageContaining("'k' must be an integer");
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"k\":2.5}")).hasMessageContaining("'k' must be an integer");
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"k\":21}")).hasMessageContaining("'k' = 21 is outside [1, 20]");
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"k\":0}")).hasMessageContaining("outside");
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"k\":10,\"bm25Depth\":5}")).hasMessageContaining("bm25Depth");
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"denseDepth\":201}")).hasMessageContaining("denseDepth");
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"nprobe\":65}")).hasMessageContaining("nprobe");
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"mode\":\"sql\"}")).hasMessageContaining("'mode'");
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"rerank\":\"yes\"}")).hasMessageContaining("'rerank'");
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"fusion\":\"convex:tmm,alpha=2\"}"))
        .hasMessageContaining("'fusion'").hasMessageContaining("alpha");
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"fusion\":\"borda\"}")).hasMessageContaining("'fusion'");
    assertThatThrownBy(() -> parse("{\"query\":\"q\",\"rrfK\":60}")).hasMessageContaining("unknown field 'rrfK'");
    assertThatThrownBy(() -> parse("{\"query\":12}")).hasMessageContaining("'query' is required");
    assertThatThrownBy(() -> parse("{}")).hasMessageContaining("'query' is required");
    assertThatThrownBy(() -> parse("{\"query\":\"   \"}")).hasMessageContaining("blank");
    assertThatThrownBy(() -> parse("{\"query\":\"" + "x".repeat(51) + "\"}")).hasMessageContaining("51 chars");
    assertThatThrownBy(() -> parse("[1,2]")).hasMessageContaining("JSON object");
    assertThatThrownBy(() -> parse("{\"query\":")).hasMessageContaining("invalid JSON");
  }
}
