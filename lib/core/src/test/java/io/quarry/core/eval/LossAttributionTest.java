package io.quarry.core.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LossAttributionTest {

  @Test
  void eachMissingRelevantDocumentIsChargedToTheFirstStageThatLostIt() {
    // relevant: found (in the final top k), a..f lost at different stages; x judged non-relevant
    Map<String, Integer> j = new LinkedHashMap<>();
    for (String d : List.of("found", "a", "b", "c", "d", "e", "f")) {
      j.put(d, 1);
    }
    j.put("x", 0);
    LossAttribution.QueryTrace t = new LossAttribution.QueryTrace("q1",
        Set.of("found", "b", "c", "d", "e", "f"),          // probed lists: a's chunks are not there
        Set.of("found", "a", "b", "d", "e", "f"),          // exact dense: c is missed even exactly
        Set.of("found", "d"),                              // BM25
        Set.of("found", "e", "f"),                         // IVF-PQ: b was probed but outranked after PQ
        Set.of("found", "e", "f"),                         // fused candidates: d dropped by fusion
        Set.of("found", "e"),                              // top k before re-scoring
        true,
        Set.of("found", "x"));                             // final top k
    Map<String, LossAttribution.Cause> byDoc = new LinkedHashMap<>();
    for (LossAttribution.Loss l : LossAttribution.attribute(t, j)) {
      byDoc.put(l.docId(), l.cause());
    }
    assertThat(byDoc).containsExactly(
        Map.entry("a", LossAttribution.Cause.NOT_IN_PROBED_LISTS),
        Map.entry("b", LossAttribution.Cause.OUTRANKED_AFTER_PQ),
        Map.entry("c", LossAttribution.Cause.MISSED_BY_EMBEDDING_AND_BM25),
        Map.entry("d", LossAttribution.Cause.DROPPED_BY_FUSION),
        Map.entry("e", LossAttribution.Cause.PUSHED_DOWN_BY_RESCORING),
        Map.entry("f", LossAttribution.Cause.RANKED_BELOW_K));

    LossAttribution.Summary s = LossAttribution.summarize(List.of(t), Qrels.of(Map.of("q1", j)), 10, 1);
    assertThat(s.relevant()).isEqualTo(7);
    assertThat(s.found()).isEqualTo(1);
    assertThat(s.counts().values()).containsExactly(1, 1, 1, 1, 1, 1);
    assertThat(s.examples().get("pushed below k by fusion")).containsExactly("q1/d");
  }

  @Test
  void aFusionThatPushesASingleSignalsTopKDocumentBelowKIsCharged() {
    // final stage = fusion (rescored false): e was in a fused signal's top k, f in none
    LossAttribution.QueryTrace t = new LossAttribution.QueryTrace("q", null, null, Set.of("e"), Set.of("e", "f"),
        null, Set.of("e"), false, Set.of());
    Map<String, LossAttribution.Cause> byDoc = new LinkedHashMap<>();
    for (LossAttribution.Loss l : LossAttribution.attribute(t, new LinkedHashMap<>(Map.of("e", 1, "f", 1)))) {
      byDoc.put(l.docId(), l.cause());
    }
    assertThat(byDoc).containsEntry("e", LossAttribution.Cause.DROPPED_BY_FUSION)
        .containsEntry("f", LossAttribution.Cause.RANKED_BELOW_K);
  }

  @Test
  void withoutRescoringTheLastCauseIsRankedBelowK() {
    LossAttribution.QueryTrace t = new LossAttribution.QueryTrace("q", null, null, null, Set.of("a"), null, null,
        false, Set.of());
    assertThat(LossAttribution.attribute(t, Map.of("a", 2))).extracting(LossAttribution.Loss::cause)
        .containsExactly(LossAttribution.Cause.RANKED_BELOW_K);
  }
}
