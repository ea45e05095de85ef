package io.quarry.core.search;

import io.quarry.core.search.SearchOptions.Mode;
import io.quarry.core.segment.ChunkTableFile;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The multi-stage search of Quarry, the one implementation used by the serving jar, the evaluation and the tuning.
 * A pipeline of stage objects over one {@link QueryContext} (embedding and coarse assignment computed once per
 * query):
 *
 * <ul>
 *   <li>{@code bm25} mode: BM25 top-{@code bm25Depth} ({@link Retriever#bm25});
 *   <li>{@code ivfpq} mode: ADC top-{@code denseDepth} ({@link Retriever#adc});
 *   <li>{@code rescore} mode: the same, then re-scoring of the top {@code rescoreDepth} with the stored vectors
 *       (float32 or sq8, {@link ExactRescorer}; skipped when the version stores none);
 *   <li>{@code hybrid} mode: the union of the BM25 and the ADC candidates ({@link Candidates}); every candidate gets
 *       its re-scored dense score and its BM25 score (Lucene, restricted to the candidates the BM25 top-n missed), then
 *       the signals are fused ({@link FusionSpec}: RRF, weighted RRF, a convex combination of normalized scores, …
 *       as registered in {@link io.quarry.core.search.fusion.FusionMethods});
 *   <li>then, on request, a cross-encoder ({@link Reranker}) over the top {@code rerankDepth}.
 * </ul>
 *
 * The top {@code k} are returned with chunk metadata and per-stage scores and ranks keyed by stage name
 * ({@value #BM25}, {@value #IVFPQ} (ADC), {@value #RESCORE}, {@value #HYBRID}, {@value #CROSS_ENCODER}: the stage
 * vocabulary of {@link Stages}). Candidates below a
 * re-scored depth keep their previous order after the re-scored ones. Thread-safe if the encoder, lexical searcher and
 * reranker are.
 */
public final class HybridSearcher {
  /** Stage names ({@link Stages}): keys of {@link Hit#stages()} and of the stage timings. */
  public static final String BM25 = Stages.BM25;

  public static final String IVFPQ = Stages.IVFPQ;
  public static final String RESCORE = Stages.RESCORE;
  public static final String HYBRID = Stages.HYBRID;
  public static final String CROSS_ENCODER = Stages.CROSS_ENCODER;

  /** The dense signal among the fused candidates' sources (a signal, not a stage). */
  public static final String DENSE = "dense";

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
   * One search request: the query text and its options.
   *
   * @throws IllegalArgumentException if the query is null
   */
  public record Request(String query, SearchOptions options) {
    public Request {
      if (query == null) {
        throw new IllegalArgumentException("query is required");
      }
      if (options == null) {
        throw new IllegalArgumentException("options are required");
      }
    }

    /** Default options (hybrid, index-tuned parameters) with {@code k} hits. */
    public static Request of(String query, int k) {
      return new Request(query, SearchOptions.builder().k(k).build());
    }

    public int k() {
      return options.k();
    }

    public Mode mode() {
      return options.mode();
    }
  }

  /** A stage's score of a hit and its 1-based rank in that stage's ranking. */
  public record StageScore(float score, int rank) {}

  /**
   * One hit.
   *
   * @param score the ranking score: the last stage's score for hits that stage scored; hits below a re-scoring
   *     or cross-encoder depth carry their previous score shifted below the last re-scored one, so scores never
   *     increase down the list (their unshifted stage scores are in {@code stages})
   * @param stages stage name to the hit's score and rank there, for the stages that ranked it, in execution order
   */
  public record Hit(int shard, int id, String chunkId, String docId, int ordinal, int startChar, int endChar,
      String text, float score, Map<String, StageScore> stages) {
    /** The score of a stage, or null if that stage did not rank this hit. */
    public Float stageScore(String stage) {
      StageScore s = stages.get(stage);
      return s == null ? null : s.score();
    }
  }

  /**
   * Hits best first, wall time per stage in nanoseconds (stage name → ns, in execution order), and the options
   * actually used (tunable fields resolved).
   */
  public record Result(List<Hit> hits, Map<String, Long> stageNanos, SearchOptions options) {}

  private final IndexVersion version;
  private final DenseSearcher dense;
  private final QueryEncoder encoder;
  private final LexicalSearcher lexical;
  private final Retriever bm25Retriever;
  private final Retriever adcRetriever;
  private final ExactRescorer rescorer;
  private final Reranker reranker;
  /** The extra dense signals fused in hybrid mode (the version's dense fields that have an encoder), in order. */
  private final List<FieldSignal> fields;

  /**
   * An extra dense signal: a dense field of the version ({@code embedding.extraModels}), its query encoder (the
   * field's model, with that model's query prefix) and its exact scorer over the field's vectors.
   */
  private record FieldSignal(IndexManifest.DenseField field, QueryEncoder encoder, ExactRescorer scorer) {}

  /**
   * @param version the opened index version
   * @param encoder query embedder (null: only {@code bm25} mode works)
   * @param lexical BM25 over the version (null: only {@code dense} mode works)
   * @param reranker cross-encoder (null: {@code rerank} requests fail)
   */
  public HybridSearcher(IndexVersion version, QueryEncoder encoder, LexicalSearcher lexical, Reranker reranker) {
    this(version, encoder, lexical, reranker, Map.of());
  }

  /**
   * A searcher that also fuses the version's extra dense fields (issue 26): hybrid mode adds, per field with an
   * encoder in {@code fieldEncoders}, the field's exact top-{@code denseDepth} to the candidates and its exact score
   * of every candidate as one more dense signal ({@code dense@<model>}); {@code α} is shared equally by the dense
   * signals ({@link io.quarry.core.search.fusion.Signal#alphaWeights}). A field without an encoder is not searched.
   *
   * @param fieldEncoders query embedder per dense field name ({@link IndexManifest.DenseField#name})
   * @throws IllegalArgumentException if an encoder names a field the version does not have
   */
  public HybridSearcher(IndexVersion version, QueryEncoder encoder, LexicalSearcher lexical, Reranker reranker,
      Map<String, QueryEncoder> fieldEncoders) {
    List<FieldSignal> fs = new ArrayList<>();
    for (IndexManifest.DenseField f : version.denseFields()) {
      QueryEncoder e = fieldEncoders.get(f.name());
      if (e != null) {
        fs.add(new FieldSignal(f, e, new ExactRescorer(version, version.fieldVectors(f.name()), f.model().dim())));
      }
    }
    for (String name : fieldEncoders.keySet()) {
      version.fieldVectors(name); // names the fields the version has
    }
    this.fields = List.copyOf(fs);
    this.version = version;
    this.dense = new DenseSearcher(version);
    this.encoder = encoder;
    this.lexical = lexical;
    this.bm25Retriever = lexical == null ? null : Retriever.bm25(lexical);
    this.adcRetriever = Retriever.adc(dense);
    this.rescorer = "none".equals(version.manifest().rescore()) ? null : new ExactRescorer(version);
    this.reranker = reranker;
  }

  public IndexVersion version() {
    return version;
  }

  public DenseSearcher dense() {
    return dense;
  }

  /** The signal names of the extra dense fields this searcher fuses ({@code dense@<model>}), in fusion order. */
  public List<String> fieldSignals() {
    return fields.stream().map(f -> f.field().signal()).toList();
  }

  /**
   * Exact search of one extra dense field alone: the top {@code depth} chunks by the field model's score (what the
   * hybrid adds to its candidates for that field; evaluated as the field's own stage).
   *
   * @param signal the field's signal name ({@link #fieldSignals})
   * @throws IllegalArgumentException for a field this searcher does not fuse
   */
  public List<ScoredChunk> searchField(String signal, String query, int depth) throws IOException {
    for (FieldSignal f : fields) {
      if (f.field().signal().equals(signal)) {
        return f.scorer().scan(f.encoder().encode(query), depth);
      }
    }
    throw new IllegalArgumentException("no dense field signal " + signal + " (have " + fieldSignals() + ")");
  }

  /** Whether a cross-encoder is configured. */
  public boolean canRerank() {
    return reranker != null;
  }

  /** Whether the version stores re-scoring vectors. */
  public boolean canRescore() {
    return rescorer != null;
  }

  /**
   * The options with every unset tunable field filled: the index version's tuned defaults ({@code quarry tune}), else
   * the built-in ones.
   */
  public SearchOptions resolve(SearchOptions o) {
    IndexManifest.SearchDefaults t = version.manifest().search();
    // A single-retriever mode needs at least k candidates; hybrid takes the tuned depths as they are (the union of
    // the two lists is the candidate set, whatever k).
    int floor = o.mode() == SearchOptions.Mode.HYBRID ? 1 : o.k();
    int depthDefault = Math.max(SearchOptions.DEFAULT_DEPTH, o.k());
    SearchOptions.Builder b = o.toBuilder();
    if (o.nprobe() == null) {
      b.nprobe(t != null && t.nprobe() != null ? t.nprobe() : SearchOptions.DEFAULT_NPROBE);
    }
    if (o.bm25Depth() == null) {
      b.bm25Depth(Math.max(floor, t != null && t.bm25Depth() != null ? t.bm25Depth() : depthDefault));
    }
    if (o.denseDepth() == null) {
      b.denseDepth(Math.max(floor, t != null && t.denseDepth() != null ? t.denseDepth() : depthDefault));
    }
    if (o.fusion() == null) {
      b.fusion(t != null && t.fusion() != null ? FusionSpec.parse(t.fusion()) : FusionSpec.DEFAULT);
    }
    b.rerankDepth(o.rerankDepth());
    return b.build();
  }

  /**
   * Runs the stages for one request.
   *
   * @throws IllegalArgumentException if the request needs a component this searcher lacks (encoder, BM25,
   *     reranker)
   * @throws IOException on index read or model errors
   */
  public Result search(Request r) throws IOException {
    SearchOptions o = resolve(r.options());
    SearchTrace t = new SearchTrace();
    QueryContext q = new QueryContext(r.query(), encoder);
    if (o.rerank() && reranker == null) {
      throw new IllegalArgumentException("no cross-encoder configured; set rerank false");
    }
    List<ScoredChunk> ranking;
    switch (o.mode()) {
      case BM25 -> {
        ranking = requireBm25().retrieve(q, o.bm25Depth(), o.nprobe());
        t.lap(BM25);
        t.record(BM25, ranking);
      }
      case IVFPQ, RESCORE -> {
        ranking = ann(q, o, t);
        if (o.mode() == Mode.RESCORE && rescorer != null && o.rescoreDepth() > 0) {
          List<ScoredChunk> top = rescorer.rescore(q, ranking, o.rescoreDepth());
          ranking = ScoredChunk.appendBelow(top, ranking.subList(top.size(), ranking.size()));
          t.lap(RESCORE);
          t.record(RESCORE, top);
        }
      }
      case HYBRID -> {
        Candidates c = candidates(q, o, t);
        ranking = c.fuse(o.fusion());
        t.lap(HYBRID);
        t.record(HYBRID, ranking);
      }
      default -> throw new IllegalStateException(o.mode().name());
    }
    if (o.rerank()) {
      ranking = rerank(q, ranking, o.rerankDepth(), t);
    }
    List<Hit> hits = new ArrayList<>(Math.min(o.k(), ranking.size()));
    for (int i = 0; i < Math.min(o.k(), ranking.size()); i++) {
      ScoredChunk c = ranking.get(i);
      ChunkTableFile.Row row = version.shards().get(c.shard()).table().row(c.id());
      hits.add(new Hit(c.shard(), c.id(), row.chunkId(), row.docId(), row.ordinal(), row.startChar(), row.endChar(),
          o.withText() ? text(c) : null, c.score(), t.stagesOf(c.key())));
    }
    t.lap("fetch");
    return new Result(hits, t.nanos, o);
  }

  /**
   * The hybrid candidates of a query with both exact scores filled, not yet fused: what {@code hybrid} mode fuses,
   * and what tuning fuses many times with different {@link FusionSpec}s.
   *
   * @param o options; the tunable fields are resolved first
   * @throws IllegalArgumentException without a BM25 part or a query encoder
   */
  public Candidates candidates(String query, SearchOptions o) throws IOException {
    return candidates(new QueryContext(query, encoder), resolve(o), new SearchTrace());
  }

  private Candidates candidates(QueryContext q, SearchOptions o, SearchTrace t) throws IOException {
    List<ScoredChunk> bm25 = requireBm25().retrieve(q, o.bm25Depth(), o.nprobe());
    t.lap(BM25);
    List<ScoredChunk> ann = ann(q, o, t);
    List<Candidates.Source> sources = new ArrayList<>(List.of(Candidates.Source.dense(DENSE, rescorer == null ? -1f
        : rescorer.theoreticalMin()), Candidates.Source.lexical(BM25)));
    List<List<ScoredChunk>> rankings = new ArrayList<>(List.of(ann, bm25));
    float[][] fieldQueries = new float[fields.size()][];
    for (int f = 0; f < fields.size(); f++) {
      FieldSignal fs = fields.get(f);
      fieldQueries[f] = fs.encoder().encode(q.text());
      t.lap("embed");
      // exact first stage: its scores are the signal's scores
      sources.add(new Candidates.Source(fs.field().signal(), io.quarry.core.search.fusion.Signal.Kind.DENSE, true,
          fs.scorer().theoreticalMin(), Float.NaN));
      rankings.add(fs.scorer().scan(fieldQueries[f], o.denseDepth()));
      t.lap(fs.field().signal());
    }
    Candidates c = Candidates.union(sources, rankings);
    Map<String, Integer> docOrdinal = new HashMap<>();
    int[] docs = new int[c.size()];
    for (int i = 0; i < c.size(); i++) {
      String docId = version.shards().get(c.shard(i)).table().docId(c.id(i));
      docs[i] = docOrdinal.computeIfAbsent(docId, x -> docOrdinal.size());
    }
    c.setDocuments(docs);
    if (rescorer != null) {
      rescorer.scoreAll(q, c, DENSE);
      t.lap(RESCORE);
    }
    // BM25 for the candidates the BM25 top-n did not return: same Lucene weight, restricted to these chunks.
    List<ScoredChunk> missing = new ArrayList<>();
    List<Integer> at = new ArrayList<>();
    for (int i = 0; i < c.size(); i++) {
      if (Float.isNaN(c.score(BM25, i))) {
        missing.add(new ScoredChunk(c.shard(i), c.id(i), 0f));
        at.add(i);
      }
    }
    if (!missing.isEmpty()) {
      float[] s = lexical.score(q.text(), missing);
      for (int j = 0; j < s.length; j++) {
        c.setScore(BM25, at.get(j), s[j]);
      }
    }
    t.lap(BM25);
    t.record(BM25, c.rankBy(BM25));
    if (rescorer != null) {
      t.record(RESCORE, c.rankBy(DENSE));
    }
    for (int f = 0; f < fields.size(); f++) {
      String signal = fields.get(f).field().signal();
      fields.get(f).scorer().scoreMissing(fieldQueries[f], c, signal);
      t.lap(signal);
      t.record(signal, c.rankBy(signal));
    }
    return c;
  }

  private List<ScoredChunk> ann(QueryContext q, SearchOptions o, SearchTrace t) throws IOException {
    q.vector();
    t.lap("embed");
    List<ScoredChunk> ann = adcRetriever.retrieve(q, o.denseDepth(), o.nprobe());
    t.lap(IVFPQ);
    t.record(IVFPQ, ann);
    return ann;
  }

  private Retriever requireBm25() {
    if (bm25Retriever == null) {
      throw new IllegalArgumentException("this index version has no BM25 part; use mode rescore or ivfpq");
    }
    return bm25Retriever;
  }

  private List<ScoredChunk> rerank(QueryContext q, List<ScoredChunk> cands, int depthWanted, SearchTrace t)
      throws IOException {
    int depth = Math.min(depthWanted, cands.size());
    List<String> passages = new ArrayList<>(depth);
    for (int i = 0; i < depth; i++) {
      passages.add(text(cands.get(i)));
    }
    float[] s = reranker.score(q.text(), passages);
    List<ScoredChunk> top = new ArrayList<>(depth);
    for (int i = 0; i < depth; i++) {
      top.add(new ScoredChunk(cands.get(i).shard(), cands.get(i).id(), s[i]));
    }
    top.sort(ScoredChunk.BY_SCORE);
    t.record(CROSS_ENCODER, top);
    t.lap(CROSS_ENCODER);
    return ScoredChunk.appendBelow(top, cands.subList(depth, cands.size()));
  }

  private String text(ScoredChunk c) throws IOException {
    return lexical == null ? null : lexical.text(c.shard(), c.id());
  }
}
