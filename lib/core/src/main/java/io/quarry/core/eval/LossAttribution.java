package io.quarry.core.eval;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loss attribution: for each judged-relevant document missing from the final top-k of a query, the first pipeline
 * stage that lost it. The pipeline is BM25 ∥ dense IVF-PQ → candidates (union) with exact dense and BM25 scores →
 * fusion (→ cross-encoder); the causes, checked in this order:
 *
 * <ol>
 *   <li>{@link Cause#NOT_IN_PROBED_LISTS}: no chunk of the document lies in the IVF lists probed for the query, and
 *       BM25 did not retrieve it;
 *   <li>{@link Cause#OUTRANKED_AFTER_PQ}: a chunk was in a probed list, but its ADC (PQ-approximated) score did not
 *       reach the dense candidates, and BM25 did not retrieve it. If even exact search over the float vectors misses
 *       it, the loss is the embedding's ({@link Cause#MISSED_BY_EMBEDDING_AND_BM25}), not PQ's;
 *   <li>{@link Cause#DROPPED_BY_FUSION}: a first stage retrieved it and one of the fused signals (BM25, exact dense)
 *       had it in its top k, but the fused ranking put it below k (or, with {@code fused} given, it is not among
 *       the candidates passed on);
 *   <li>{@link Cause#PUSHED_DOWN_BY_RESCORING}: in the top k before re-scoring (exact or cross-encoder), below k
 *       after it;
 *   <li>{@link Cause#RANKED_BELOW_K}: among the candidates, but ranked below k before re-scoring and after it (or
 *       without re-scoring).
 * </ol>
 *
 * <p>Every set is at document level (chunks aggregated with max score). A trace stage that was not run is null and
 * is skipped in the chain.
 */
public final class LossAttribution {
  private LossAttribution() {}

  /** Why a relevant document is missing from the final top-k. */
  public enum Cause {
    NOT_IN_PROBED_LISTS("not in the probed IVF lists"),
    MISSED_BY_EMBEDDING_AND_BM25("missed by exact dense search and BM25"),
    OUTRANKED_AFTER_PQ("outranked after PQ approximation"),
    DROPPED_BY_FUSION("pushed below k by fusion"),
    PUSHED_DOWN_BY_RESCORING("pushed down by re-scoring"),
    RANKED_BELOW_K("ranked below k");

    private final String label;

    Cause(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /**
   * What each stage returned for one query, as document ids; null for a stage that was not run.
   *
   * @param qid query id
   * @param probedDocs documents with at least one chunk in a probed IVF list (null: unknown)
   * @param exactDense documents of the exact dense candidates
   * @param bm25 documents of the BM25 candidates
   * @param denseAnn documents of the dense IVF-PQ candidates
   * @param fused documents passed from fusion to re-scoring (null when there is no re-scoring)
   * @param fusedTopK the top-k documents before re-scoring (null when there is no re-scoring)
   * @param rescored true if a re-scoring stage ranked the final list
   * @param finalTopK the final top-k documents
   */
  public record QueryTrace(String qid, Set<String> probedDocs, Set<String> exactDense, Set<String> bm25,
      Set<String> denseAnn, Set<String> fused, Set<String> fusedTopK, boolean rescored, Set<String> finalTopK) {}

  /**
   * One lost relevant document.
   *
   * @param qid query id
   * @param docId document id
   * @param grade its relevance grade
   * @param cause the stage that lost it
   */
  public record Loss(String qid, String docId, int grade, Cause cause) {}

  /**
   * Counts over a query set, for the report.
   *
   * @param k the cutoff of "final top-k"
   * @param relevant relevant (query, document) pairs considered
   * @param found of which in the final top-k
   * @param counts cause label to number of lost pairs
   * @param examples cause label to up to n examples ({@code qid/docid})
   */
  public record Summary(int k, int relevant, int found, Map<String, Integer> counts,
      Map<String, List<String>> examples) {}

  /** Attributes each relevant document of {@code trace.qid} missing from the final top-k. */
  public static List<Loss> attribute(QueryTrace t, Map<String, Integer> judgments) {
    List<Loss> out = new ArrayList<>();
    for (Map.Entry<String, Integer> e : judgments.entrySet()) {
      if (e.getValue() < Qrels.RELEVANCE_LEVEL || t.finalTopK().contains(e.getKey())) {
        continue;
      }
      out.add(new Loss(t.qid(), e.getKey(), e.getValue(), cause(t, e.getKey())));
    }
    return out;
  }

  static Cause cause(QueryTrace t, String doc) {
    boolean byBm25 = t.bm25() != null && t.bm25().contains(doc);
    boolean byDense = t.denseAnn() != null && t.denseAnn().contains(doc);
    if (!byBm25 && !byDense) {
      if (t.exactDense() != null && !t.exactDense().contains(doc)) {
        return Cause.MISSED_BY_EMBEDDING_AND_BM25;
      }
      if (t.probedDocs() != null && !t.probedDocs().contains(doc)) {
        return Cause.NOT_IN_PROBED_LISTS;
      }
      return Cause.OUTRANKED_AFTER_PQ;
    }
    if (t.fused() != null && !t.fused().contains(doc)) {
      return Cause.DROPPED_BY_FUSION;
    }
    boolean wasInTopK = t.fusedTopK() != null && t.fusedTopK().contains(doc);
    if (!wasInTopK) {
      return Cause.RANKED_BELOW_K;
    }
    return t.rescored() ? Cause.PUSHED_DOWN_BY_RESCORING : Cause.DROPPED_BY_FUSION;
  }

  /**
   * Attributes over a query set.
   *
   * @param traces one per judged query
   * @param examples examples kept per cause (first in query order)
   */
  public static Summary summarize(List<QueryTrace> traces, Qrels qrels, int k, int examples) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    Map<String, List<String>> ex = new LinkedHashMap<>();
    for (Cause c : Cause.values()) {
      counts.put(c.label(), 0);
      ex.put(c.label(), new ArrayList<>());
    }
    int relevant = 0;
    int found = 0;
    for (QueryTrace t : traces) {
      Map<String, Integer> j = qrels.judgments(t.qid());
      Set<String> rel = new HashSet<>();
      j.forEach((d, g) -> {
        if (g >= Qrels.RELEVANCE_LEVEL) {
          rel.add(d);
        }
      });
      relevant += rel.size();
      for (String d : rel) {
        if (t.finalTopK().contains(d)) {
          found++;
        }
      }
      for (Loss l : attribute(t, j)) {
        counts.merge(l.cause().label(), 1, Integer::sum);
        List<String> list = ex.get(l.cause().label());
        if (list.size() < examples) {
          list.add(l.qid() + "/" + l.docId());
        }
      }
    }
    return new Summary(k, relevant, found, counts, ex);
  }
}
