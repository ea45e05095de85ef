package io.quarry.core.search;

import io.quarry.core.quant.Metric;
import io.quarry.core.segment.ChunkTableFile;
import io.quarry.core.segment.IndexVersion;
import io.quarry.core.segment.RescoreVectorsFile;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The multi-stage search of Quarry, the one implementation used by both the serving jar and the evaluation job:
 *
 * <ol>
 *   <li>BM25 top-{@code bm25Depth} ({@link LexicalSearcher}) and/or IVF-PQ ADC top-{@code denseDepth}
 *       ({@link DenseSearcher});
 *   <li>in {@code hybrid} mode, reciprocal rank fusion of the two ({@link Rrf}, Cormack et al. 2009, k = 60);
 *   <li>exact re-scoring of the top-{@code rescoreDepth} candidates with the stored vectors (float32 or sq8) in
 *       {@code dense} and {@code hybrid} modes (skipped when the version stores no vectors or the depth is 0);
 *   <li>optionally a cross-encoder ({@link Reranker}) over the top-{@code rerankDepth} of the previous stage;
 * </ol>
 *
 * then the top {@code k} with chunk metadata, per-stage scores and 1-based ranks. Candidates below a re-scored depth
 * keep their previous order after the re-scored ones. Thread-safe if the encoder, lexical searcher and reranker are.
 */
public final class HybridSearcher {

  /** Which first stages run. */
  public enum Mode {
    BM25,
    DENSE,
    HYBRID;

    /** Parses {@code bm25}, {@code dense}, {@code hybrid} (case-insensitive). */
    public static Mode parse(String s) {
      return switch (s.toLowerCase(Locale.ROOT)) {
        case "bm25" -> BM25;
        case "dense" -> DENSE;
        case "hybrid" -> HYBRID;
        default -> throw new IllegalArgumentException("mode must be bm25, dense or hybrid, got '" + s + "'");
      };
    }
  }

  /** Embeds a query with the index's model. */
  @FunctionalInterface
  public interface QueryEncoder {
    /** @return the query embedding ({@code dim} floats) */
    float[] encode(String query) throws IOException;
  }

  /** A cross-encoder: one relevance score per (query, passage) pair, higher is better. */
  @FunctionalInterface
  public interface Reranker {
    float[] score(String query, List<String> passages) throws IOException;
  }

  /**
   * One search request.
   *
   * @param query free text
   * @param k hits returned
   * @param mode first stages
   * @param nprobe IVF lists probed
   * @param denseDepth ADC candidates
   * @param bm25Depth BM25 candidates
   * @param rescoreDepth candidates exactly re-scored
   * @param rerank run the cross-encoder
   * @param rerankDepth candidates (the top of the previous stage) scored by the cross-encoder when {@code rerank};
   *     the rest keep their order after them
   * @param rrfK RRF constant
   * @param withText fetch the stored chunk text of the returned hits
   */
  public record Request(String query, int k, Mode mode, int nprobe, int denseDepth, int bm25Depth, int rescoreDepth,
      boolean rerank, int rerankDepth, int rrfK, boolean withText) {

    /** A request whose cross-encoder (if {@code rerank}) scores the top {@code max(rescoreDepth, k)} candidates. */
    public Request(String query, int k, Mode mode, int nprobe, int denseDepth, int bm25Depth, int rescoreDepth,
        boolean rerank, int rrfK, boolean withText) {
      this(query, k, mode, nprobe, denseDepth, bm25Depth, rescoreDepth, rerank, Math.max(rescoreDepth, k), rrfK,
          withText);
    }

    /** Checks the ranges. @throws IllegalArgumentException naming the field */
    public Request {
      if (query == null) {
        throw new IllegalArgumentException("query is required");
      }
      if (k < 1) {
        throw new IllegalArgumentException("k must be >= 1, got " + k);
      }
      if (nprobe < 1) {
        throw new IllegalArgumentException("nprobe must be >= 1, got " + nprobe);
      }
      if (denseDepth < k && mode == Mode.DENSE || bm25Depth < k && mode == Mode.BM25) {
        throw new IllegalArgumentException("candidate depth must be >= k (" + k + ")");
      }
      if (denseDepth < 1 || bm25Depth < 1 || rescoreDepth < 0 || rrfK < 1) {
        throw new IllegalArgumentException("denseDepth and bm25Depth must be >= 1, rescoreDepth >= 0, rrfK >= 1");
      }
      if (rerank && rerankDepth < 1) {
        throw new IllegalArgumentException("rerankDepth must be >= 1, got " + rerankDepth);
      }
    }

    /** Defaults: hybrid, nprobe 16, depths 100, re-score the top 100, no cross-encoder, RRF k 60, with text. */
    public static Request of(String query, int k) {
      int d = Math.max(100, k);
      return new Request(query, k, Mode.HYBRID, 16, d, d, d, false, Rrf.DEFAULT_K, true);
    }
  }

  /**
   * One hit. Stage scores and ranks (1-based) are null for stages that did not see the chunk or did not run.
   *
   * @param score the ranking score: the last stage's score for hits that stage scored; hits below a re-scoring
   *     or cross-encoder depth carry their previous score shifted below the last re-scored one, so scores never
   *     increase down the list (their unshifted stage scores are in the per-stage fields)
   */
  public record Hit(int shard, int id, String chunkId, String docId, int ordinal, int startChar, int endChar,
      String text, float score, Float bm25Score, Integer bm25Rank, Float denseScore, Integer denseRank,
      Float rrfScore, Integer rrfRank, Float exactScore, Integer exactRank, Float rerankScore, Integer rerankRank) {}

  /** Hits best first, and wall time per stage in nanoseconds (stage name → ns, in execution order). */
  public record Result(List<Hit> hits, Map<String, Long> stageNanos) {}

  private final IndexVersion version;
  private final DenseSearcher dense;
  private final QueryEncoder encoder;
  private final LexicalSearcher lexical;
  private final Reranker reranker;
  private final Metric metric;

  /**
   * @param version the opened index version
   * @param encoder query embedder (null: only {@code bm25} mode works)
   * @param lexical BM25 over the version (null: only {@code dense} mode works)
   * @param reranker cross-encoder (null: {@code rerank} requests fail)
   */
  public HybridSearcher(IndexVersion version, QueryEncoder encoder, LexicalSearcher lexical, Reranker reranker) {
    this.version = version;
    this.dense = new DenseSearcher(version);
    this.encoder = encoder;
    this.lexical = lexical;
    this.reranker = reranker;
    this.metric = Metric.parse(version.manifest().metric());
  }

  public IndexVersion version() {
    return version;
  }

  public DenseSearcher dense() {
    return dense;
  }

  /** Whether a cross-encoder is configured. */
  public boolean canRerank() {
    return reranker != null;
  }

  /**
   * Runs the stages for one request.
   *
   * @throws IllegalArgumentException if the request needs a component this searcher lacks (encoder, BM25,
   *     reranker)
   * @throws IOException on index read or model errors
   */
  public Result search(Request r) throws IOException {
    Map<String, Long> nanos = new LinkedHashMap<>();
    boolean useBm25 = r.mode() != Mode.DENSE;
    boolean useDense = r.mode() != Mode.BM25;
    if (useBm25 && lexical == null) {
      throw new IllegalArgumentException("this index version has no BM25 part; use mode dense");
    }
    if (useDense && encoder == null) {
      throw new IllegalArgumentException("no query encoder configured; use mode bm25");
    }
    if (r.rerank() && reranker == null) {
      throw new IllegalArgumentException("no cross-encoder configured; set rerank false");
    }
    Map<Long, Float[]> scores = new HashMap<>(); // key -> [bm25, dense, rrf, exact, rerank]
    Map<Long, Integer[]> ranks = new HashMap<>();
    List<ScoredChunk> bm25 = List.of();
    List<ScoredChunk> ann = List.of();
    float[] q = null;
    long t = System.nanoTime();
    if (useBm25) {
      bm25 = lexical.search(r.query(), r.bm25Depth());
      t = lap(nanos, "bm25", t);
      record(bm25, 0, scores, ranks);
    }
    if (useDense) {
      q = encoder.encode(r.query());
      t = lap(nanos, "embed", t);
      ann = dense.search(q, r.denseDepth(), r.nprobe());
      t = lap(nanos, "dense", t);
      record(ann, 1, scores, ranks);
    }
    List<ScoredChunk> cands;
    if (r.mode() == Mode.HYBRID) {
      cands = Rrf.fuse(List.of(bm25, ann), r.rrfK());
      t = lap(nanos, "fusion", t);
      record(cands, 2, scores, ranks);
    } else {
      cands = useDense ? ann : bm25;
    }
    int lastStage = r.mode() == Mode.HYBRID ? 2 : useDense ? 1 : 0;
    if (useDense && r.rescoreDepth() > 0 && "none".equals(version.manifest().rescore()) == false) {
      cands = rescore(q, cands, r.rescoreDepth());
      t = lap(nanos, "rescore", t);
      record(cands.subList(0, Math.min(r.rescoreDepth(), cands.size())), 3, scores, ranks);
      lastStage = 3;
    }
    if (r.rerank()) {
      int depth = Math.min(r.rerankDepth(), cands.size());
      List<String> passages = new ArrayList<>(depth);
      for (int i = 0; i < depth; i++) {
        passages.add(text(cands.get(i)));
      }
      float[] s = reranker.score(r.query(), passages);
      List<ScoredChunk> top = new ArrayList<>(depth);
      for (int i = 0; i < depth; i++) {
        top.add(new ScoredChunk(cands.get(i).shard(), cands.get(i).id(), s[i]));
      }
      top.sort(ScoredChunk.BY_SCORE);
      record(top, 4, scores, ranks);
      cands = appendBelow(top, cands.subList(depth, cands.size()));
      t = lap(nanos, "rerank", t);
      lastStage = 4;
    }
    List<Hit> hits = new ArrayList<>(Math.min(r.k(), cands.size()));
    for (int i = 0; i < Math.min(r.k(), cands.size()); i++) {
      ScoredChunk c = cands.get(i);
      Float[] s = scores.get(c.key());
      Integer[] rk = ranks.get(c.key());
      ChunkTableFile.Row row = version.shards().get(c.shard()).table().row(c.id());
      float fin = s[lastStage] != null ? s[lastStage] : c.score();
      hits.add(new Hit(c.shard(), c.id(), row.chunkId(), row.docId(), row.ordinal(), row.startChar(), row.endChar(),
          r.withText() ? text(c) : null, fin, s[0], rk[0], s[1], rk[1], s[2], rk[2], s[3], rk[3], s[4], rk[4]));
    }
    lap(nanos, "fetch", t);
    return new Result(hits, nanos);
  }

  private String text(ScoredChunk c) throws IOException {
    return lexical == null ? null : lexical.text(c.shard(), c.id());
  }

  /** Exact scores of the top-{@code depth} candidates with the stored vectors; the rest keep their order. */
  List<ScoredChunk> rescore(float[] q, List<ScoredChunk> cands, int depth) {
    int n = Math.min(depth, cands.size());
    float[] scratch = new float[version.manifest().dim()];
    List<ScoredChunk> top = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ScoredChunk c = cands.get(i);
      RescoreVectorsFile v = version.shards().get(c.shard()).vectors();
      top.add(new ScoredChunk(c.shard(), c.id(), v.score(metric, q, c.id(), scratch)));
    }
    top.sort(ScoredChunk.BY_SCORE);
    return appendBelow(top, cands.subList(n, cands.size()));
  }

  /**
   * {@code top} followed by {@code tail} (both sorted by descending score, on possibly different scales: e.g. exact
   * inner products then RRF scores, or cross-encoder logits then exact scores), with the tail's scores shifted by
   * one constant when needed so that every tail score is below the last top score: the list's scores never increase,
   * so anything that re-sorts hits by score (a TREC run, a per-document max) keeps this order. The stage scores
   * recorded per hit are not shifted.
   */
  static List<ScoredChunk> appendBelow(List<ScoredChunk> top, List<ScoredChunk> tail) {
    List<ScoredChunk> out = new ArrayList<>(top.size() + tail.size());
    out.addAll(top);
    if (top.isEmpty() || tail.isEmpty() || tail.get(0).score() < top.get(top.size() - 1).score()) {
      out.addAll(tail);
      return out;
    }
    float last = top.get(top.size() - 1).score();
    float first = tail.get(0).score();
    // in double, with a margin of 2 float ulps so the first tail score still rounds to below `last`
    double shift = (double) last - first - 2 * Math.ulp(Math.max(Math.abs(last), Math.abs(first)));
    for (ScoredChunk c : tail) {
      out.add(new ScoredChunk(c.shard(), c.id(), (float) (c.score() + shift)));
    }
    return out;
  }

  private static void record(List<ScoredChunk> ranking, int stage, Map<Long, Float[]> scores,
      Map<Long, Integer[]> ranks) {
    for (int i = 0; i < ranking.size(); i++) {
      ScoredChunk c = ranking.get(i);
      scores.computeIfAbsent(c.key(), x -> new Float[5])[stage] = c.score();
      ranks.computeIfAbsent(c.key(), x -> new Integer[5])[stage] = i + 1;
    }
  }

  private static long lap(Map<String, Long> nanos, String stage, long t0) {
    long t1 = System.nanoTime();
    nanos.merge(stage, t1 - t0, Long::sum);
    return t1;
  }
}
