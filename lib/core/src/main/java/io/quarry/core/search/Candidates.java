package io.quarry.core.search;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The candidate chunks of one hybrid query — the union of the BM25 and the ADC candidates — with every score the
 * fusion needs: the exact dense score (stored vectors) and the BM25 score of <em>every</em> candidate, including
 * those the other retriever did not return (scored against the query restricted to these chunks), so no fused score
 * has a missing side. Also keeps the ADC score and rank of the chunks the ADC stage returned.
 *
 * <p>Candidates are held in a fixed order (shard, id ascending); {@link #fuse} returns a ranking. Cheap to fuse many
 * times with different {@link FusionSpec}s, which is what tuning does. Not thread-safe while being filled.
 */
public final class Candidates {
  private final int[] shard;
  private final int[] id;
  private final float[] ann;
  private final int[] annRank;
  private final int[] bm25Rank;
  private final float[] dense;
  private final float[] bm25;
  private final float denseMin;
  /** Document ordinal of each candidate (equal ordinals: chunks of one document), or null if unknown. */
  private int[] doc;

  /**
   * @param shard shard of each candidate
   * @param id shard-local id of each candidate
   * @param ann ADC score, NaN where the ADC stage did not return the chunk
   * @param annRank 1-based ADC rank, 0 where absent
   * @param bm25Rank 1-based rank in the BM25 retrieval, 0 where the BM25 stage did not return the chunk
   * @param dense exact dense score of each candidate (NaN where unknown: an index without re-scoring vectors)
   * @param bm25 BM25 score of each candidate (0 where no query term matches)
   * @param denseMin the dense score's theoretical minimum (for {@link FusionSpec.Normalization#TMM})
   */
  public Candidates(int[] shard, int[] id, float[] ann, int[] annRank, int[] bm25Rank, float[] dense, float[] bm25,
      float denseMin) {
    int n = shard.length;
    if (id.length != n || ann.length != n || annRank.length != n || bm25Rank.length != n || dense.length != n
        || bm25.length != n) {
      throw new IllegalArgumentException("candidate arrays differ in length");
    }
    this.shard = shard;
    this.id = id;
    this.ann = ann;
    this.annRank = annRank;
    this.bm25Rank = bm25Rank;
    this.dense = dense;
    this.bm25 = bm25;
    this.denseMin = denseMin;
  }

  /**
   * The union of two first-stage rankings in (shard, id) order, ADC scores and ranks kept, other scores unset
   * (dense NaN, BM25 NaN) for the caller to fill with {@link #setDense} and {@link #setBm25}.
   */
  public static Candidates union(List<ScoredChunk> annHits, List<ScoredChunk> bm25Hits, float denseMin) {
    java.util.Set<Long> seen = new java.util.HashSet<>();
    List<ScoredChunk> all = new ArrayList<>(annHits.size() + bm25Hits.size());
    for (List<ScoredChunk> l : List.of(annHits, bm25Hits)) {
      for (ScoredChunk c : l) {
        if (seen.add(c.key())) {
          all.add(c);
        }
      }
    }
    all.sort((a, b) -> Long.compare(a.key(), b.key()));
    int n = all.size();
    Candidates c = new Candidates(new int[n], new int[n], new float[n], new int[n], new int[n], new float[n],
        new float[n], denseMin);
    Map<Long, Integer> pos = new HashMap<>();
    for (int i = 0; i < n; i++) {
      c.shard[i] = all.get(i).shard();
      c.id[i] = all.get(i).id();
      pos.put(all.get(i).key(), i);
    }
    Arrays.fill(c.ann, Float.NaN);
    Arrays.fill(c.dense, Float.NaN);
    Arrays.fill(c.bm25, Float.NaN);
    for (int r = 0; r < annHits.size(); r++) {
      int i = pos.get(annHits.get(r).key());
      c.ann[i] = annHits.get(r).score();
      c.annRank[i] = r + 1;
    }
    for (int r = 0; r < bm25Hits.size(); r++) {
      int i = pos.get(bm25Hits.get(r).key());
      c.bm25[i] = bm25Hits.get(r).score();
      c.bm25Rank[i] = r + 1;
    }
    return c;
  }

  /**
   * The candidates a search with first-stage depth {@code depth} would have: those in the ADC top-{@code depth} or
   * the BM25 top-{@code depth} of this (deeper) set, scores kept. Exact for {@code depth} up to the depth this set
   * was retrieved with.
   */
  public Candidates truncate(int depth) {
    int n = 0;
    for (int i = 0; i < size(); i++) {
      if (keep(i, depth)) {
        n++;
      }
    }
    Candidates c = new Candidates(new int[n], new int[n], new float[n], new int[n], new int[n], new float[n],
        new float[n], denseMin);
    int j = 0;
    for (int i = 0; i < size(); i++) {
      if (keep(i, depth)) {
        c.shard[j] = shard[i];
        c.id[j] = id[i];
        c.ann[j] = annRank[i] >= 1 && annRank[i] <= depth ? ann[i] : Float.NaN;
        c.annRank[j] = annRank[i] >= 1 && annRank[i] <= depth ? annRank[i] : 0;
        c.bm25Rank[j] = bm25Rank[i] >= 1 && bm25Rank[i] <= depth ? bm25Rank[i] : 0;
        c.dense[j] = dense[i];
        c.bm25[j] = bm25[i];
        if (doc != null) {
          if (c.doc == null) {
            c.doc = new int[n];
          }
          c.doc[j] = doc[i];
        }
        j++;
      }
    }
    return c;
  }

  private boolean keep(int i, int depth) {
    return annRank[i] >= 1 && annRank[i] <= depth || bm25Rank[i] >= 1 && bm25Rank[i] <= depth;
  }

  public int size() {
    return shard.length;
  }

  public int shard(int i) {
    return shard[i];
  }

  public int id(int i) {
    return id[i];
  }

  /** ADC score of candidate {@code i}, NaN if the ADC stage did not return it. */
  public float ann(int i) {
    return ann[i];
  }

  /** 1-based ADC rank, 0 if absent. */
  public int annRank(int i) {
    return annRank[i];
  }

  /** Exact dense score of candidate {@code i} (NaN if unknown). */
  public float dense(int i) {
    return dense[i];
  }

  /** BM25 score of candidate {@code i}. */
  public float bm25(int i) {
    return bm25[i];
  }

  public void setDense(int i, float s) {
    dense[i] = s;
  }

  public void setBm25(int i, float s) {
    bm25[i] = s;
  }

  /**
   * Sets the document of every candidate, as ordinals: candidates with equal ordinals are chunks of one document
   * (what {@link FusionSpec.Level#DOC} fusion aggregates over).
   *
   * @param docOrdinal one ordinal {@code >= 0} per candidate, in this set's order
   * @throws IllegalArgumentException if the length differs or an ordinal is negative
   */
  public void setDocuments(int[] docOrdinal) {
    if (docOrdinal.length != size()) {
      throw new IllegalArgumentException("document ordinals: " + docOrdinal.length + " for " + size() + " candidates");
    }
    for (int g : docOrdinal) {
      if (g < 0) {
        throw new IllegalArgumentException("document ordinal must be >= 0, got " + g);
      }
    }
    this.doc = docOrdinal.clone();
  }

  /** The candidates as chunks (scores 0), in this set's order. */
  public List<ScoredChunk> chunks() {
    List<ScoredChunk> out = new ArrayList<>(size());
    for (int i = 0; i < size(); i++) {
      out.add(new ScoredChunk(shard[i], id[i], 0f));
    }
    return out;
  }

  /** The dense score used for fusion: exact where known, else the ADC score, else NaN (no dense evidence). */
  float denseForFusion(int i) {
    return Float.isNaN(dense[i]) ? ann[i] : dense[i];
  }

  /** The candidates ranked by the dense side alone (exact, else ADC; unscored last), best first. */
  public List<ScoredChunk> rankByDense() {
    return ranked(i -> denseForFusion(i));
  }

  /** The candidates ranked by BM25 alone, best first. */
  public List<ScoredChunk> rankByBm25() {
    return ranked(i -> bm25[i]);
  }

  private List<ScoredChunk> ranked(java.util.function.IntToDoubleFunction f) {
    List<ScoredChunk> out = new ArrayList<>(size());
    for (int i = 0; i < size(); i++) {
      double s = f.applyAsDouble(i);
      out.add(new ScoredChunk(shard[i], id[i], Double.isNaN(s) ? Float.NEGATIVE_INFINITY : (float) s));
    }
    out.sort(ScoredChunk.BY_SCORE);
    return out;
  }

  /**
   * Fuses the two sides of every candidate and ranks them. At {@link FusionSpec.Level#DOC} (documents set with {@link
   * #setDocuments}), every chunk of a document gets the document's fused score, and within a document chunks are
   * ordered by their chunk-level fused score (so the first is the best chunk to cite).
   *
   * @return every candidate, best first by fused score (ties by shard, id)
   * @throws IllegalStateException for a document-level fusion when the documents are not set
   */
  public List<ScoredChunk> fuse(FusionSpec spec) {
    int n = size();
    double[] d = new double[n];
    double[] b = new double[n];
    for (int i = 0; i < n; i++) {
      d[i] = denseForFusion(i);
      b[i] = Float.isNaN(bm25[i]) ? 0 : bm25[i];
    }
    double[] fused = fuse(spec, d, b);
    List<ScoredChunk> out = new ArrayList<>(n);
    if (spec.level() == FusionSpec.Level.DOC) {
      if (doc == null) {
        throw new IllegalStateException("document-level fusion needs the candidates' documents");
      }
      int groups = 0;
      for (int g : doc) {
        groups = Math.max(groups, g + 1);
      }
      double[] gd = new double[groups];
      double[] gb = new double[groups];
      Arrays.fill(gd, Double.NaN);
      Arrays.fill(gb, Double.NaN);
      for (int i = 0; i < n; i++) {
        int g = doc[i];
        gd[g] = maxIgnoringNaN(gd[g], d[i]);
        gb[g] = maxIgnoringNaN(gb[g], b[i]);
      }
      // ordinals without a candidate stay NaN on both sides; compact them away so they do not enter the statistics
      int[] slot = new int[groups];
      int m = 0;
      for (int g = 0; g < groups; g++) {
        slot[g] = Double.isNaN(gb[g]) ? -1 : m++;
      }
      double[] cd = new double[m];
      double[] cb = new double[m];
      for (int g = 0; g < groups; g++) {
        if (slot[g] >= 0) {
          cd[slot[g]] = gd[g];
          cb[slot[g]] = gb[g];
        }
      }
      double[] docFused = fuse(spec, cd, cb);
      Integer[] order = new Integer[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      Arrays.sort(order, (x, y) -> {
        int c = Double.compare(docFused[slot[doc[y]]], docFused[slot[doc[x]]]);
        if (c == 0) {
          c = Integer.compare(doc[x], doc[y]);
        }
        if (c == 0) {
          c = Double.compare(fused[y], fused[x]);
        }
        return c != 0 ? c : Integer.compare(x, y);
      });
      for (int i : order) {
        out.add(new ScoredChunk(shard[i], id[i], (float) docFused[slot[doc[i]]]));
      }
      return out;
    }
    for (int i = 0; i < n; i++) {
      out.add(new ScoredChunk(shard[i], id[i], (float) fused[i]));
    }
    out.sort(ScoredChunk.BY_SCORE);
    return out;
  }

  private static double maxIgnoringNaN(double a, double x) {
    return Double.isNaN(a) ? x : Double.isNaN(x) ? a : Math.max(a, x);
  }

  /** The fused score of each item from its dense side {@code d} (NaN: no dense evidence) and BM25 side {@code b}. */
  private double[] fuse(FusionSpec spec, double[] d, double[] b) {
    int n = d.length;
    double[] fused = new double[n];
    switch (spec.strategy()) {
      case RRF, WRRF -> {
        double wd = spec.strategy() == FusionSpec.Strategy.RRF ? 1 : spec.alpha();
        double wb = spec.strategy() == FusionSpec.Strategy.RRF ? 1 : 1 - spec.alpha();
        int[] rd = ranks(d);
        int[] rb = ranks(b);
        for (int i = 0; i < n; i++) {
          fused[i] = (rd[i] > 0 ? wd / (spec.rrfK() + rd[i]) : 0) + wb / (spec.rrfK() + rb[i]);
        }
      }
      case CONVEX -> {
        double[] nd = normalize(d, spec.normalization(), denseMin);
        double[] nb = normalize(b, spec.normalization(), 0);
        for (int i = 0; i < n; i++) {
          fused[i] = spec.alpha() * nd[i] + (1 - spec.alpha()) * nb[i];
        }
      }
      default -> throw new IllegalStateException(spec.strategy().name());
    }
    return fused;
  }

  /**
   * 1-based ranks by descending score (ties by position, i.e. shard and id); NaN scores get rank 0 (absent).
   */
  private static int[] ranks(double[] s) {
    Integer[] order = new Integer[s.length];
    int m = 0;
    for (int i = 0; i < s.length; i++) {
      if (!Double.isNaN(s[i])) {
        order[m++] = i;
      }
    }
    Integer[] o = Arrays.copyOf(order, m);
    Arrays.sort(o, (a, b) -> {
      int c = Double.compare(s[b], s[a]);
      return c != 0 ? c : Integer.compare(a, b);
    });
    int[] r = new int[s.length];
    for (int k = 0; k < o.length; k++) {
      r[o[k]] = k + 1;
    }
    return r;
  }

  /**
   * Normalized scores; a NaN score (no evidence on that side) becomes 0, the bottom of every normalization's range
   * for minmax and tmm; for zscore it becomes the candidate minimum's z-score.
   */
  static double[] normalize(double[] s, FusionSpec.Normalization norm, double theoreticalMin) {
    int n = s.length;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double sum = 0;
    int cnt = 0;
    for (double x : s) {
      if (!Double.isNaN(x)) {
        min = Math.min(min, x);
        max = Math.max(max, x);
        sum += x;
        cnt++;
      }
    }
    double[] out = new double[n];
    if (cnt == 0) {
      return out;
    }
    switch (norm) {
      case MINMAX -> {
        double range = max - min;
        for (int i = 0; i < n; i++) {
          out[i] = Double.isNaN(s[i]) || range <= 0 ? 0 : (s[i] - min) / range;
        }
      }
      case TMM -> {
        double lo = Math.min(theoreticalMin, min);
        double range = max - lo;
        for (int i = 0; i < n; i++) {
          out[i] = Double.isNaN(s[i]) || range <= 0 ? 0 : (s[i] - lo) / range;
        }
      }
      case ZSCORE -> {
        double mean = sum / cnt;
        double var = 0;
        for (double x : s) {
          if (!Double.isNaN(x)) {
            var += (x - mean) * (x - mean);
          }
        }
        double sd = Math.sqrt(var / cnt);
        for (int i = 0; i < n; i++) {
          double x = Double.isNaN(s[i]) ? min : s[i];
          out[i] = sd <= 0 ? 0 : (x - mean) / sd;
        }
      }
      default -> throw new IllegalStateException(norm.name());
    }
    return out;
  }
}
