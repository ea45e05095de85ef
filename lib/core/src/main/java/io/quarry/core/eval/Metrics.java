package io.quarry.core.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Per-query retrieval metrics with trec_eval 9.x semantics. Every method takes one query's ranking, which must
 * already be in trec_eval's order ({@link Rankings#TREC_ORDER}; {@link Rankings#sorted} does it), and that query's
 * judgments ({@code docid -> grade}). A document is relevant when its grade is at least
 * {@link Qrels#RELEVANCE_LEVEL}; unjudged documents are non-relevant.
 *
 * <p>Queries without any relevant document ({@code numRel = 0}) score 0 on every metric, as in trec_eval, which
 * still counts them in its averages when they appear in the qrels.
 *
 * <p>References: Järvelin and Kekäläinen, "Cumulated gain-based evaluation of IR techniques", TOIS 2002 (nDCG;
 * trec_eval's {@code ndcg_cut} uses gain = grade and discount {@code log2(rank + 1)}, ideal ranking = judged grades
 * sorted descending); Voorhees, "The TREC-8 question answering track", 1999 (reciprocal rank); Buckley and
 * Voorhees, "Evaluating evaluation measure stability", SIGIR 2000 (average precision as in trec_eval).
 */
public final class Metrics {
  private Metrics() {}

  /** Value of {@code spec} for one query. */
  public static double compute(Measure spec, List<ScoredDoc> ranking, Map<String, Integer> judgments) {
    int k = spec.k();
    return switch (spec.kind()) {
      case NDCG -> ndcg(ranking, judgments, k);
      case RECALL -> recall(ranking, judgments, k);
      case PRECISION -> precision(ranking, judgments, k);
      case MRR -> reciprocalRank(ranking, judgments, k == 0 ? Integer.MAX_VALUE : k);
      case MAP -> averagePrecision(ranking, judgments, k == 0 ? Integer.MAX_VALUE : k);
      case SUCCESS -> success(ranking, judgments, k);
    };
  }

  static boolean relevant(Map<String, Integer> judgments, String doc) {
    Integer g = judgments.get(doc);
    return g != null && g >= Qrels.RELEVANCE_LEVEL;
  }

  static int numRelevant(Map<String, Integer> judgments) {
    int n = 0;
    for (int g : judgments.values()) {
      if (g >= Qrels.RELEVANCE_LEVEL) {
        n++;
      }
    }
    return n;
  }

  private static int relevantInTop(List<ScoredDoc> ranking, Map<String, Integer> judgments, int k) {
    int n = 0;
    for (int i = 0; i < Math.min(k, ranking.size()); i++) {
      if (relevant(judgments, ranking.get(i).docId())) {
        n++;
      }
    }
    return n;
  }

  /** Recall@k: relevant documents in the top k / all relevant documents (trec_eval {@code recall_k}). */
  public static double recall(List<ScoredDoc> ranking, Map<String, Integer> judgments, int k) {
    int numRel = numRelevant(judgments);
    return numRel == 0 ? 0.0 : (double) relevantInTop(ranking, judgments, k) / numRel;
  }

  /** P@k: relevant documents in the top k / k, even when fewer than k were retrieved (trec_eval {@code P_k}). */
  public static double precision(List<ScoredDoc> ranking, Map<String, Integer> judgments, int k) {
    return (double) relevantInTop(ranking, judgments, k) / k;
  }

  /** 1 if a relevant document is in the top k, else 0 (trec_eval {@code success_k}). */
  public static double success(List<ScoredDoc> ranking, Map<String, Integer> judgments, int k) {
    return relevantInTop(ranking, judgments, k) > 0 ? 1.0 : 0.0;
  }

  /** 1 / rank of the first relevant document within the top k, else 0 (trec_eval {@code recip_rank}, {@code -M k}). */
  public static double reciprocalRank(List<ScoredDoc> ranking, Map<String, Integer> judgments, int k) {
    for (int i = 0; i < Math.min(k, ranking.size()); i++) {
      if (relevant(judgments, ranking.get(i).docId())) {
        return 1.0 / (i + 1);
      }
    }
    return 0.0;
  }

  /**
   * Average precision over the top k: sum of precision at the rank of each relevant retrieved document, divided by
   * the number of relevant documents (trec_eval {@code map} for k = all, {@code map_cut_k} otherwise).
   */
  public static double averagePrecision(List<ScoredDoc> ranking, Map<String, Integer> judgments, int k) {
    int numRel = numRelevant(judgments);
    if (numRel == 0) {
      return 0.0;
    }
    double sum = 0;
    int rel = 0;
    for (int i = 0; i < Math.min(k, ranking.size()); i++) {
      if (relevant(judgments, ranking.get(i).docId())) {
        rel++;
        sum += (double) rel / (i + 1);
      }
    }
    return sum / numRel;
  }

  /**
   * nDCG@k as trec_eval's {@code ndcg_cut_k}: DCG = sum over ranks i = 1..k of gain_i / log2(i + 1) with gain = the
   * document's grade (0 if unjudged or negative), divided by the DCG of the ideal ranking (all judged grades sorted
   * descending, cut to k); 0 when that ideal DCG is 0.
   */
  public static double ndcg(List<ScoredDoc> ranking, Map<String, Integer> judgments, int k) {
    double dcg = 0;
    for (int i = 0; i < Math.min(k, ranking.size()); i++) {
      Integer g = judgments.get(ranking.get(i).docId());
      if (g != null && g > 0) {
        dcg += g / log2(i + 2);
      }
    }
    List<Integer> gains = new ArrayList<>();
    for (int g : judgments.values()) {
      if (g > 0) {
        gains.add(g);
      }
    }
    gains.sort((a, b) -> Integer.compare(b, a));
    double ideal = 0;
    for (int i = 0; i < Math.min(k, gains.size()); i++) {
      ideal += gains.get(i) / log2(i + 2);
    }
    return ideal == 0 ? 0.0 : dcg / ideal;
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
