package io.quarry.core.eval;

import io.quarry.core.config.EvaluationConfig;
import io.quarry.core.search.FusionSpec;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.search.SearchOptions;
import io.quarry.core.search.SearchOptions.Mode;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import io.quarry.core.segment.RescoreVectorsFile;
import java.io.IOException;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs every configured retrieval stage over the labeled queries through {@link HybridSearcher}, the same search
 * code the serving jar uses, and measures it: per-stage runs and metrics, ANN recall of the dense IVF-PQ stage
 * against exact search, sweeps (nprobe, candidate depth) with latency and bytes per vector, and loss
 * attribution of the final stage.
 *
 * <p>Stages, each run with {@code candidates} chunks per first stage, then aggregated to the top-{@code k}
 * documents (max chunk score per document, {@link Rankings#maxPerDocument}):
 *
 * <ul>
 *   <li>{@code bm25}: BM25 alone;
 *   <li>{@code exact}: exact search over the float embeddings (computed by the caller, e.g. on Spark);
 *   <li>{@code ivfpq}: IVF-PQ ADC at {@code nprobe};
 *   <li>{@code rescore}: IVF-PQ ADC + re-scoring of its candidates with the stored vectors, float32 or sq8
 *       ({@code quantizer.rescore}; dense alone);
 *   <li>{@code hybrid}: the union of the BM25 and the IVF-PQ candidates, each with its exact dense and its BM25
 *       score, fused ({@link FusionSpec}; the index version's tuned setting unless {@code evaluation.fusion} names
 *       one);
 *   <li>{@code cross-encoder}: hybrid (rescore without a BM25 part) + cross-encoder over the top
 *       {@code crossEncoderDepth} chunks, when one is configured.
 * </ul>
 *
 * Latencies are wall times of {@link HybridSearcher#search} per query on this thread, in ms, query embedding
 * excluded (queries are embedded once beforehand).
 */
public final class StageEvaluator {
  /** A labeled query, embedded. */
  public record Query(String qid, String text, float[] vector) {}

  /**
   * One evaluated stage.
   *
   * @param name stage name
   * @param description what ran, with its parameters
   * @param chunkHits per query (input order), the stage's chunk candidates, best first
   * @param docs per query id, the top-k documents, best first
   * @param latencyMs per-query latency in ms, or null if not measured per query
   */
  public record StageRun(String name, String description, List<List<ChunkHit>> chunkHits,
      Map<String, List<ScoredDoc>> docs, double[] latencyMs) {}

  private final HybridSearcher searcher;
  private final List<Query> queries;
  private final EvaluationConfig cfg;
  private final List<String> notes = new ArrayList<>();

  /**
   * @param searcher the index's searcher, or null when there is no index (only {@code exact} can run)
   * @param queries judged queries with their embeddings
   * @param cfg evaluation settings
   */
  public StageEvaluator(HybridSearcher searcher, List<Query> queries, EvaluationConfig cfg) {
    this.searcher = searcher;
    this.queries = List.copyOf(queries);
    this.cfg = cfg;
  }

  /** Remarks gathered while running (skipped stages and sweep points, with the reason). */
  public List<String> notes() {
    return notes;
  }

  /** Builds the {@code exact} stage from exact hits computed elsewhere (per query, input order). */
  public StageRun exactStage(List<List<ChunkHit>> exactHits, String metric) {
    return fromHits("exact", "exact " + metric + " search over the float embeddings, top " + cfg.candidates()
        + " chunks, max score per document", exactHits, null);
  }

  private StageRun fromHits(String name, String description, List<List<ChunkHit>> hits, double[] latency) {
    Map<String, List<ScoredDoc>> docs = new LinkedHashMap<>();
    for (int i = 0; i < queries.size(); i++) {
      docs.put(queries.get(i).qid(), Rankings.maxPerDocument(hits.get(i), cfg.k()));
    }
    return new StageRun(name, description, hits, docs, latency);
  }

  /** Whether the searcher can run {@code stage}; if not, the reason is added to {@link #notes()}. */
  public boolean canRun(String stage) {
    String why = null;
    if (searcher == null) {
      why = "no index version to search";
    } else {
      IndexManifest m = searcher.version().manifest();
      switch (stage) {
        case "bm25", "hybrid" -> why = m.bm25() == null ? "index version has no BM25 part" : null;
        case "rescore" -> why = "none".equals(m.rescore()) ? "index version stores no re-scoring vectors" : null;
        case "cross-encoder" -> why = searcher.canRerank() ? null : "no cross-encoder configured";
        default -> why = null;
      }
    }
    if (why != null) {
      notes.add("stage " + stage + " skipped: " + why);
    }
    return why == null;
  }

  private boolean hasBm25() {
    return searcher.version().manifest().bm25() != null;
  }

  /**
   * The options of {@code stage} at the given nprobe and depth (chunks per first stage); {@code fusion} null means
   * the evaluation config's rule ({@link EvaluationConfig#fusionFromIndex}).
   */
  SearchOptions options(String stage, int nprobe, int depth, FusionSpec fusion) {
    SearchOptions.Builder b = SearchOptions.builder().k(depth).withText(false).nprobe(nprobe).depth(depth)
        .rescoreDepth(0);
    return switch (stage) {
      case "bm25" -> b.mode(Mode.BM25).build();
      case "ivfpq" -> b.mode(Mode.IVFPQ).build();
      case "rescore" -> b.mode(Mode.RESCORE).rescoreDepth(depth).build();
      case "hybrid" -> hybrid(b, fusion).build();
      case "cross-encoder" -> (hasBm25() ? hybrid(b, fusion) : b.mode(Mode.RESCORE).rescoreDepth(depth))
          .rerank(true).rerankDepth(cfg.crossEncoderDepth()).build();
      default -> throw new IllegalArgumentException("not a searcher stage: " + stage);
    };
  }

  private SearchOptions.Builder hybrid(SearchOptions.Builder b, FusionSpec fusion) {
    b.mode(Mode.HYBRID);
    if (fusion != null) {
      return b.fusion(fusion);
    }
    if (!cfg.fusionFromIndex()) {
      return b.fusion(FusionSpec.parse(cfg.fusion()));
    }
    if (searcher.version().manifest().search() != null) {
      // the tuned operating point: fusion, nprobe and depths from the manifest
      return b.nprobe(null).depth(null).fusion(null);
    }
    return b.fusion(null);
  }

  String describe(String stage, SearchOptions o) {
    return switch (stage) {
      case "bm25" -> "BM25, top " + o.bm25Depth() + " chunks";
      case "ivfpq" -> "IVF-PQ ADC, nprobe " + o.nprobe() + ", top " + o.denseDepth() + " chunks";
      case "rescore" -> "IVF-PQ ADC (nprobe " + o.nprobe() + ", top " + o.denseDepth() + ") + re-scoring ("
          + searcher.version().manifest().rescore() + ")";
      case "hybrid" -> "BM25 top " + o.bm25Depth() + " ∪ IVF-PQ top " + o.denseDepth() + " (nprobe " + o.nprobe()
          + ")" + (searcher.fieldSignals().isEmpty() ? "" : " ∪ exact top " + o.denseDepth() + " of "
          + String.join(", ", searcher.fieldSignals())) + ", re-scored dense"
          + (searcher.fieldSignals().isEmpty() ? "" : " (and each extra field's exact)") + " + BM25 score of every "
          + "candidate, fused " + o.fusion()
          + (searcher.version().manifest().search() != null && cfg.fusionFromIndex() ? " (tuned)" : "");
      case "cross-encoder" -> (hasBm25() ? describe("hybrid", o) : describe("rescore", o))
          + " + cross-encoder over the top " + cfg.crossEncoderDepth();
      default -> stage;
    };
  }

  /** Runs a searcher stage at the configured parameters. */
  public StageRun run(String stage) throws IOException {
    return run(stage, cfg.nprobe(), cfg.candidates(), null);
  }

  /** Runs a searcher stage with explicit parameters ({@code fusion} null: the configured rule). */
  public StageRun run(String stage, int nprobe, int depth, FusionSpec fusion) throws IOException {
    List<List<ChunkHit>> hits = new ArrayList<>(queries.size());
    double[] lat = new double[queries.size()];
    SearchOptions o = options(stage, nprobe, depth, fusion);
    SearchOptions used = searcher.resolve(o);
    for (int i = 0; i < queries.size(); i++) {
      long t0 = System.nanoTime();
      HybridSearcher.Result res = searcher.search(new HybridSearcher.Request(queries.get(i).text(), o));
      lat[i] = (System.nanoTime() - t0) / 1e6;
      List<ChunkHit> h = new ArrayList<>(res.hits().size());
      for (HybridSearcher.Hit x : res.hits()) {
        h.add(new ChunkHit(x.chunkId(), x.docId(), x.score()));
      }
      hits.add(h);
    }
    return fromHits(stage, describe(stage, used), hits, lat);
  }

  /**
   * The own stages of the searcher's extra dense fields (issue 26, {@code embedding.extraModels}), one per field,
   * named by its signal ({@code dense@<model>}): exact search with that model alone, top {@code candidates} chunks,
   * max score per document. Empty when the version has none.
   */
  public List<StageRun> fieldStages() throws IOException {
    List<StageRun> out = new ArrayList<>();
    if (searcher == null) {
      return out;
    }
    IndexVersion v = searcher.version();
    for (String signal : searcher.fieldSignals()) {
      List<List<ChunkHit>> hits = new ArrayList<>(queries.size());
      double[] lat = new double[queries.size()];
      for (int i = 0; i < queries.size(); i++) {
        long t0 = System.nanoTime();
        List<io.quarry.core.search.ScoredChunk> r = searcher.searchField(signal, queries.get(i).text(),
            cfg.candidates());
        lat[i] = (System.nanoTime() - t0) / 1e6;
        List<ChunkHit> h = new ArrayList<>(r.size());
        for (io.quarry.core.search.ScoredChunk c : r) {
          var t = v.shards().get(c.shard()).table();
          h.add(new ChunkHit(t.chunkId(c.id()), t.docId(c.id()), c.score()));
        }
        hits.add(h);
      }
      out.add(fromHits(signal, "exact search with the dense field's model " + signal.substring(signal.indexOf('@')
          + 1) + " alone (flat scan of its vectors), top " + cfg.candidates() + " chunks, max score per document",
          hits, lat));
    }
    return out;
  }

  /** Percentile {@code p} in [0, 100] of {@code values} (nearest rank), or null if values is null or empty. */
  public static Double percentile(double[] values, double p) {
    if (values == null || values.length == 0) {
      return null;
    }
    double[] s = values.clone();
    Arrays.sort(s);
    int idx = (int) Math.ceil(p / 100.0 * s.length) - 1;
    return s[Math.max(0, Math.min(s.length - 1, idx))];
  }

  /** Mean ANN recall@k of {@code ann} against {@code exact} over the queries. */
  public static double annRecall(StageRun ann, StageRun exact, int k) {
    double sum = 0;
    for (int i = 0; i < ann.chunkHits().size(); i++) {
      sum += AnnRecall.at(ann.chunkHits().get(i), exact.chunkHits().get(i), k);
    }
    return ann.chunkHits().isEmpty() ? 0 : sum / ann.chunkHits().size();
  }

  /** Index bytes per vector read by {@code stage}: PQ code + 4-byte id, plus the re-scoring vector when used. */
  public double bytesPerVector(String stage) {
    IndexManifest m = searcher.version().manifest();
    double b = m.codeSize() + 4;
    if (stage.equals("rescore") || stage.equals("hybrid") || stage.equals("cross-encoder")) {
      long bytes = 0;
      for (IndexManifest.Shard s : m.shards()) {
        for (IndexManifest.FileEntry f : s.files()) {
          // the primary re-scoring vectors; the hybrid also reads the extra dense fields' (issue 26)
          if (f.path().equals(s.dir() + "/" + RescoreVectorsFile.FILE_NAME)
              || !stage.equals("rescore") && f.path().endsWith("/" + RescoreVectorsFile.FILE_NAME)) {
            bytes += f.bytes();
          }
        }
      }
      b += m.chunks() == 0 ? 0 : (double) bytes / m.chunks();
    }
    return b;
  }

  /**
   * Sweeps: nprobe on {@code ivfpq} (with ANN recall against {@code exact} when given) and candidate depth on
   * the final pipeline stage ({@code hybrid} if it can run, else {@code rescore}, else {@code ivfpq}). The
   * fusion curve is the tuning's ({@code quarry tune}, on training qrels), not swept here on the evaluated queries.
   */
  public List<EvalReport.SweepPoint> sweeps(Qrels qrels, List<Measure> metrics, StageRun exact)
      throws IOException {
    List<EvalReport.SweepPoint> out = new ArrayList<>();
    if (searcher == null) {
      return out;
    }
    int nlist = searcher.version().manifest().nlist();
    Set<Integer> seen = new LinkedHashSet<>();
    for (int np : cfg.sweepNprobe()) {
      int v = Math.min(np, nlist);
      if (!seen.add(v)) {
        continue;
      }
      StageRun r = run("ivfpq", v, cfg.candidates(), null);
      out.add(point(r, "nprobe", v, qrels, metrics, exact == null ? null : annRecall(r, exact, cfg.annRecallK()),
          bytesPerVector("ivfpq")));
    }
    boolean rescore = !"none".equals(searcher.version().manifest().rescore());
    String depthStage = hasBm25() ? "hybrid" : rescore ? "rescore" : "ivfpq";
    for (int c : cfg.sweepCandidates()) {
      StageRun r = run(depthStage, cfg.nprobe(), c, depthStage.equals("hybrid") ? fusionUsed() : null);
      out.add(point(r, "candidates", c, qrels, metrics, null, bytesPerVector(depthStage)));
    }
    return out;
  }

  /** The fusion the hybrid stage uses under the configured rule. */
  FusionSpec fusionUsed() {
    return searcher.resolve(options("hybrid", cfg.nprobe(), cfg.candidates(), null)).fusion();
  }

  private static EvalReport.SweepPoint point(StageRun r, String param, int value, Qrels qrels,
      List<Measure> metrics, Double ann, double bpv) {
    Evaluation e = Evaluation.of(r.docs(), qrels, metrics);
    return new EvalReport.SweepPoint(r.name(), param, value, e.meansByName(), ann, percentile(r.latencyMs(), 50),
        bpv);
  }

  /**
   * Loss attribution of {@code finalRun} at cutoff {@code k}, from the stage runs at hand (any may be null).
   *
   * @param before the runs whose top-k the final stage re-ranked: for {@code hybrid} the single signals it fused
   *     ({@code bm25}, {@code rescore}); for {@code cross-encoder} the stage below it; for {@code rescore} the
   *     IVF-PQ run
   */
  public LossAttribution.Summary lossAttribution(Qrels qrels, int k, StageRun finalRun, StageRun exact,
      StageRun bm25, StageRun ann, List<StageRun> before) {
    List<LossAttribution.QueryTrace> traces = new ArrayList<>();
    boolean rescored = !finalRun.name().equals("hybrid");
    for (int i = 0; i < queries.size(); i++) {
      Query q = queries.get(i);
      Set<String> fin = topDocs(finalRun, q.qid(), k);
      Set<String> beforeTop = null;
      for (StageRun b : before) {
        if (b != null) {
          if (beforeTop == null) {
            beforeTop = new HashSet<>();
          }
          beforeTop.addAll(topDocs(b, q.qid(), k));
        }
      }
      traces.add(new LossAttribution.QueryTrace(q.qid(), searcher == null ? null : probedDocs(q.vector()),
          docSet(exact, i), docSet(bm25, i), docSet(ann, i), null, beforeTop, rescored, fin));
    }
    return LossAttribution.summarize(traces, qrels, k, cfg.lossExamples());
  }

  private static Set<String> topDocs(StageRun r, String qid, int k) {
    Set<String> out = new HashSet<>();
    List<ScoredDoc> top = r.docs().get(qid);
    for (int j = 0; j < Math.min(k, top.size()); j++) {
      out.add(top.get(j).docId());
    }
    return out;
  }

  private static Set<String> docSet(StageRun r, int i) {
    if (r == null) {
      return null;
    }
    Set<String> s = new HashSet<>();
    for (ChunkHit h : r.chunkHits().get(i)) {
      s.add(h.docId());
    }
    return s;
  }

  /** Documents with at least one chunk in the IVF lists probed for {@code query} at the configured nprobe. */
  Set<String> probedDocs(float[] query) {
    IndexVersion v = searcher.version();
    int[] probed = searcher.dense().prepare(query, cfg.nprobe()).probes();
    Set<String> docs = new HashSet<>();
    for (IndexVersion.Shard s : v.shards()) {
      for (int l : probed) {
        IntBuffer ids = s.lists().ids(l);
        for (int j = 0; j < s.lists().size(l); j++) {
          docs.add(s.table().docId(ids.get(j)));
        }
      }
    }
    return docs;
  }
}
