package io.quarry.core.search;

import io.quarry.core.search.fusion.Signal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The candidate chunks of one hybrid query — the union of the first-stage rankings of any number of retrievers (BM25
 * and one or more dense signals, each a {@link Source}) — with every score the fusion needs: each signal's score of
 * <em>every</em> candidate, including those its retriever did not return (the exact dense score from stored vectors,
 * the BM25 score against the query restricted to these chunks), so no fused score has a missing side. Also keeps each
 * retriever's first-stage score and rank (e.g. the ADC score) of the chunks it returned.
 *
 * <p>Candidates are held in a fixed order (shard, id ascending); {@link #fuse} returns a ranking. Cheap to fuse many
 * times with different {@link FusionSpec}s, which is what tuning does. Not thread-safe while being filled.
 */
public final class Candidates {
  /**
   * A retriever feeding the candidates, and how its scores enter the fusion.
   *
   * @param name the signal's name (its stage name, e.g. {@code bm25}, {@code dense})
   * @param kind dense or lexical (what {@code α} weights)
   * @param exact whether the first-stage score is already the signal's score (BM25), rather than an approximation a
   *     later score replaces (ADC, replaced by the exact score)
   * @param theoreticalMin the signal's lowest possible score (theoretical min-max normalization)
   * @param absentScore what is fused for a candidate the signal has no score for: NaN (no evidence: RRF adds no term,
   *     a normalization puts it at the bottom of its range), or a score such as BM25's 0 (no query term matches)
   */
  public record Source(String name, Signal.Kind kind, boolean exact, float theoreticalMin, float absentScore) {
    /** A lexical signal (BM25): exact first-stage scores, minimum 0, a candidate without a score scores 0. */
    public static Source lexical(String name) {
      return new Source(name, Signal.Kind.LEXICAL, true, 0f, 0f);
    }

    /** A dense signal whose first stage (ADC) is approximate and is replaced by exact scores where set. */
    public static Source dense(String name, float theoreticalMin) {
      return new Source(name, Signal.Kind.DENSE, false, theoreticalMin, Float.NaN);
    }
  }

  private final int[] shard;
  private final int[] id;
  private final List<Source> sources;
  private final Map<String, Integer> signalIndex = new HashMap<>();
  /** Per signal: first-stage score (NaN where its retriever did not return the chunk). */
  private final float[][] first;
  /** Per signal: 1-based first-stage rank, 0 where absent. */
  private final int[][] rank;
  /** Per signal: the signal's score of each candidate (NaN where unknown). */
  private final float[][] score;
  /** Document ordinal of each candidate (equal ordinals: chunks of one document), or null if unknown. */
  private int[] doc;

  private Candidates(List<Source> sources, int n) {
    this.sources = List.copyOf(sources);
    int m = sources.size();
    for (int s = 0; s < m; s++) {
      if (signalIndex.put(sources.get(s).name(), s) != null) {
        throw new IllegalArgumentException("two signals named " + sources.get(s).name());
      }
    }
    this.shard = new int[n];
    this.id = new int[n];
    this.first = new float[m][n];
    this.rank = new int[m][n];
    this.score = new float[m][n];
  }

  /**
   * The union of first-stage rankings in (shard, id) order, each retriever's scores and ranks kept as its first-stage
   * score; a source with {@link Source#exact} scores also has them as its score, the other scores are unset (NaN)
   * for the caller to fill with {@link #setScore}.
   *
   * @param sources the signals, in the order the fusion combines them
   * @param rankings one ranking per source, best first
   * @throws IllegalArgumentException if the lists differ in length or two sources share a name
   */
  public static Candidates union(List<Source> sources, List<List<ScoredChunk>> rankings) {
    if (sources.size() != rankings.size() || sources.isEmpty()) {
      throw new IllegalArgumentException(sources.size() + " sources for " + rankings.size() + " rankings");
    }
    Set<Long> seen = new HashSet<>();
    List<ScoredChunk> all = new ArrayList<>();
    for (List<ScoredChunk> l : rankings) {
      for (ScoredChunk c : l) {
        if (seen.add(c.key())) {
          all.add(c);
        }
      }
    }
    all.sort((a, b) -> Long.compare(a.key(), b.key()));
    int n = all.size();
    Candidates c = new Candidates(sources, n);
    Map<Long, Integer> pos = new HashMap<>();
    for (int i = 0; i < n; i++) {
      c.shard[i] = all.get(i).shard();
      c.id[i] = all.get(i).id();
      pos.put(all.get(i).key(), i);
    }
    for (int s = 0; s < sources.size(); s++) {
      Arrays.fill(c.first[s], Float.NaN);
      Arrays.fill(c.score[s], Float.NaN);
      List<ScoredChunk> hits = rankings.get(s);
      for (int r = 0; r < hits.size(); r++) {
        int i = pos.get(hits.get(r).key());
        c.first[s][i] = hits.get(r).score();
        c.rank[s][i] = r + 1;
        if (sources.get(s).exact()) {
          c.score[s][i] = hits.get(r).score();
        }
      }
    }
    return c;
  }

  /**
   * The candidates a search with first-stage depth {@code depth} would have: those in some retriever's
   * top-{@code depth} of this (deeper) set, scores kept (first-stage scores and ranks only within the depth). Exact
   * for {@code depth} up to the depth this set was retrieved with.
   */
  public Candidates truncate(int depth) {
    int n = 0;
    for (int i = 0; i < size(); i++) {
      if (keep(i, depth)) {
        n++;
      }
    }
    Candidates c = new Candidates(sources, n);
    int j = 0;
    for (int i = 0; i < size(); i++) {
      if (keep(i, depth)) {
        c.shard[j] = shard[i];
        c.id[j] = id[i];
        for (int s = 0; s < sources.size(); s++) {
          boolean within = rank[s][i] >= 1 && rank[s][i] <= depth;
          c.first[s][j] = within ? first[s][i] : Float.NaN;
          c.rank[s][j] = within ? rank[s][i] : 0;
          c.score[s][j] = score[s][i];
        }
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
    for (int[] r : rank) {
      if (r[i] >= 1 && r[i] <= depth) {
        return true;
      }
    }
    return false;
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

  /** The signals, in fusion order. */
  public List<Source> sources() {
    return sources;
  }

  private int signal(String name) {
    Integer s = signalIndex.get(name);
    if (s == null) {
      throw new IllegalArgumentException("no signal " + name + " among " + signalIndex.keySet());
    }
    return s;
  }

  /** The first-stage score of candidate {@code i} by signal {@code name}, NaN if its retriever did not return it. */
  public float firstStageScore(String name, int i) {
    return first[signal(name)][i];
  }

  /** The 1-based first-stage rank of candidate {@code i} by signal {@code name}, 0 if absent. */
  public int firstStageRank(String name, int i) {
    return rank[signal(name)][i];
  }

  /** Signal {@code name}'s score of candidate {@code i} (NaN if not set). */
  public float score(String name, int i) {
    return score[signal(name)][i];
  }

  /** Sets signal {@code name}'s score of candidate {@code i}. */
  public void setScore(String name, int i, float s) {
    score[signal(name)][i] = s;
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

  /**
   * What signal {@code s} contributes to the fusion for candidate {@code i}: its score where set, else its
   * first-stage score (e.g. ADC where no exact score is stored), else the source's {@link Source#absentScore}.
   */
  private double fusionScore(int s, int i) {
    float x = score[s][i];
    if (Float.isNaN(x)) {
      x = Float.isNaN(first[s][i]) ? sources.get(s).absentScore() : first[s][i];
    }
    return x;
  }

  /** The candidates ranked by signal {@code name} alone, as the fusion sees it (unscored last), best first. */
  public List<ScoredChunk> rankBy(String name) {
    int s = signal(name);
    List<ScoredChunk> out = new ArrayList<>(size());
    for (int i = 0; i < size(); i++) {
      double x = fusionScore(s, i);
      out.add(new ScoredChunk(shard[i], id[i], Double.isNaN(x) ? Float.NEGATIVE_INFINITY : (float) x));
    }
    out.sort(ScoredChunk.BY_SCORE);
    return out;
  }

  /** Every signal over the candidates, in fusion order. */
  private List<Signal> signals() {
    List<Signal> out = new ArrayList<>(sources.size());
    for (int s = 0; s < sources.size(); s++) {
      double[] x = new double[size()];
      boolean[] retrieved = new boolean[size()];
      for (int i = 0; i < size(); i++) {
        x[i] = fusionScore(s, i);
        retrieved[i] = rank[s][i] > 0;
      }
      Source src = sources.get(s);
      out.add(new Signal(src.name(), src.kind(), x, retrieved, src.theoreticalMin()));
    }
    return out;
  }

  /**
   * Fuses the signals of every candidate and ranks them. At {@link FusionSpec.Level#DOC} (documents set with {@link
   * #setDocuments}), every chunk of a document gets the document's fused score, and within a document chunks are
   * ordered by their chunk-level fused score (so the first is the best chunk to cite).
   *
   * @return every candidate, best first by fused score (ties by shard, id)
   * @throws IllegalStateException for a document-level fusion when the documents are not set
   */
  public List<ScoredChunk> fuse(FusionSpec spec) {
    int n = size();
    List<Signal> chunkSignals = signals();
    double[] fused = spec.fusion().fuse(chunkSignals);
    List<ScoredChunk> out = new ArrayList<>(n);
    if (spec.level() == FusionSpec.Level.DOC) {
      if (doc == null) {
        throw new IllegalStateException("document-level fusion needs the candidates' documents");
      }
      int groups = 0;
      for (int g : doc) {
        groups = Math.max(groups, g + 1);
      }
      // ordinals without a candidate are compacted away so they do not enter the statistics
      int[] slot = new int[groups];
      Arrays.fill(slot, -1);
      for (int g : doc) {
        slot[g] = 0;
      }
      int m = 0;
      for (int g = 0; g < groups; g++) {
        slot[g] = slot[g] < 0 ? -1 : m++;
      }
      double[] docFused = spec.fusion().fuse(perDocument(chunkSignals, slot, m));
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

  /**
   * Each signal aggregated to the documents by MaxP (NaN scores ignored; NaN if a document has none), a document
   * retrieved by a signal if any of its chunks was.
   *
   * @param slot each document ordinal's position among the {@code m} documents with candidates
   */
  private List<Signal> perDocument(List<Signal> chunkSignals, int[] slot, int m) {
    List<Signal> out = new ArrayList<>(chunkSignals.size());
    for (Signal s : chunkSignals) {
      double[] x = new double[m];
      boolean[] retrieved = new boolean[m];
      Arrays.fill(x, Double.NaN);
      for (int i = 0; i < size(); i++) {
        int g = slot[doc[i]];
        x[g] = maxIgnoringNaN(x[g], s.scores()[i]);
        retrieved[g] |= s.retrieved()[i];
      }
      out.add(new Signal(s.name(), s.kind(), x, retrieved, s.theoreticalMin()));
    }
    return out;
  }

  private static double maxIgnoringNaN(double a, double x) {
    return Double.isNaN(a) ? x : Double.isNaN(x) ? a : Math.max(a, x);
  }
}
