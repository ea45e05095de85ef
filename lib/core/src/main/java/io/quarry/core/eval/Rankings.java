package io.quarry.core.eval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Ranking helpers shared by every run: trec_eval's ordering and the aggregation of chunk hits to documents.
 *
 * <p>trec_eval ({@code form_res_rels.c}, {@code comp_sim_docno}) ignores the rank column of a run and sorts each
 * query's documents by score descending, breaking ties by document id in descending {@code strcmp} order. Quarry
 * sorts the same way before computing any metric or writing any run, so its numbers equal trec_eval's.
 */
public final class Rankings {
  private Rankings() {}

  /** Compares document ids as {@code strcmp} compares their UTF-8 bytes (equivalently, by code point). */
  public static int compareIds(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  /** trec_eval's order: score descending, then document id descending. */
  public static final Comparator<ScoredDoc> TREC_ORDER = (x, y) -> {
    int c = Double.compare(y.score(), x.score());
    return c != 0 ? c : compareIds(y.docId(), x.docId());
  };

  /** Returns a copy of {@code docs} sorted in {@link #TREC_ORDER}. */
  public static List<ScoredDoc> sorted(List<ScoredDoc> docs) {
    List<ScoredDoc> out = new ArrayList<>(docs);
    out.sort(TREC_ORDER);
    return out;
  }

  /**
   * Aggregates chunk hits to documents: each document scores the maximum score of its chunks (MaxP, Dai and Callan,
   * SIGIR 2019), then documents are sorted in {@link #TREC_ORDER} and cut to {@code k}.
   *
   * @param hits chunk hits of one query, any order; several may share a document
   * @param k number of documents kept (&gt; 0)
   * @return at most {@code k} distinct documents, best first
   * @throws IllegalArgumentException if {@code k <= 0} or a score is NaN
   */
  public static List<ScoredDoc> maxPerDocument(List<ChunkHit> hits, int k) {
    if (k <= 0) {
      throw new IllegalArgumentException("k must be > 0, got " + k);
    }
    Map<String, Double> best = new HashMap<>();
    for (ChunkHit h : hits) {
      if (Double.isNaN(h.score())) {
        throw new IllegalArgumentException("NaN score for chunk " + h.chunkId());
      }
      best.merge(h.docId(), h.score(), Math::max);
    }
    List<ScoredDoc> docs = new ArrayList<>(best.size());
    best.forEach((d, s) -> docs.add(new ScoredDoc(d, s)));
    docs.sort(TREC_ORDER);
    return docs.size() > k ? new ArrayList<>(docs.subList(0, k)) : docs;
  }
}
