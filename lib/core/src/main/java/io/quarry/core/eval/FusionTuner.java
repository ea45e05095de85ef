package io.quarry.core.eval;

import io.quarry.core.config.TuningConfig;
import io.quarry.core.search.Candidates;
import io.quarry.core.search.FusionSpec;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.search.ScoredChunk;
import io.quarry.core.search.SearchOptions;
import io.quarry.core.search.fusion.FusionMethod;
import io.quarry.core.search.fusion.FusionMethods;
import io.quarry.core.search.fusion.Normalization;
import io.quarry.core.segment.ChunkTableFile;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Chooses the hybrid search's operating point — fusion (each listed method's grid, e.g. α × RRF k × normalization;
 * see {@link FusionMethods}), candidate depth and nprobe — on <em>training</em> qrels: what autofaiss does for ANN recall, done for end-to-end relevance.
 *
 * <p>For each nprobe the candidates of every query are retrieved once at the largest depth, with both exact scores
 * ({@link HybridSearcher#candidates}); smaller depths are exact subsets of them (the union of the ADC top-d and the
 * BM25 top-d), and every fusion is computed on them without searching again, so a grid of hundreds of points costs
 * a few searches per query. Each point: the objective's mean over the queries (chunks → documents by MaxP),
 * median search latency (one thread, query embedding excluded; timed per (nprobe, depth) on {@code latencyQueries}
 * queries) and the index bytes a query reads.
 *
 * <p><b>Choice.</b> Among the points within budget, the one with the best <em>smoothed</em> objective: the mean of
 * the point and its neighbours along α (RRF k for {@code rrf}) — so a broad plateau beats a sharp peak that would
 * not carry over to other query sets (Bruch et al., TOIS 2023, on the sample efficiency of convex fusion). Points
 * within {@code tuning.tolerance} of the best smoothed objective count as ties (differences that small are far below
 * the sampling error of a mean over a few hundred queries), and the cheapest of them (fewest bytes read per query,
 * i.e. smallest nprobe and depth) is chosen. The curve over α at the chosen (nprobe, depth, fusion family)
 * and its flatness (the α range within 0.005 of the best) are reported.
 */
public final class FusionTuner {
  /** One judged training query. */
  public record Query(String qid, String text) {}

  /**
   * One grid point.
   *
   * @param nprobe IVF lists probed
   * @param depth candidate chunks per first stage
   * @param fusion the fusion
   * @param value the objective's mean over the queries
   * @param smoothed mean of {@code value} over this point and its α (or RRF k) neighbours
   * @param p50Ms median search latency at (nprobe, depth), ms
   * @param bytesPerQuery expected index bytes read per query: probed PQ codes + ids, re-scoring vectors of the
   *     candidates
   * @param withinBudget whether the point meets the latency and bytes budgets
   */
  public record Point(int nprobe, int depth, String fusion, double value, double smoothed, double p50Ms,
      double bytesPerQuery, boolean withinBudget) {}

  /**
   * The tuning's outcome.
   *
   * @param objective the metric maximized
   * @param queries training queries used
   * @param qrels the training qrels (path)
   * @param points every grid point, in grid order
   * @param chosen the chosen point (null if none fits the budget)
   * @param curve α (or RRF k) to objective at the chosen (nprobe, depth, fusion family)
   * @param flatRange the α (or k) range whose objective is within 0.005 of the curve's best, e.g. "0.4–0.8"
   * @param singleStages objective of BM25 alone and of exact dense alone on the chosen candidates, for reference
   */
  public record Result(String objective, int queries, String qrels, List<Point> points, Point chosen,
      Map<String, Double> curve, String flatRange, Map<String, Double> singleStages) {

    /** The chosen point as manifest search defaults. */
    public IndexManifest.SearchDefaults defaults() {
      return new IndexManifest.SearchDefaults(chosen.fusion(), chosen.nprobe(), chosen.depth(), chosen.depth(),
          qrels + " (" + queries + " queries)", objective, chosen.value());
    }
  }

  private final HybridSearcher searcher;
  private final Qrels qrels;
  private final Measure objective;
  private final TuningConfig cfg;

  /**
   * @param searcher the version's searcher, with a query encoder and a BM25 part
   * @param qrels training judgments
   * @param cfg the grid and budgets
   * @throws IllegalArgumentException if the objective cannot be parsed
   */
  public FusionTuner(HybridSearcher searcher, Qrels qrels, TuningConfig cfg) {
    this.searcher = searcher;
    this.qrels = qrels;
    this.cfg = cfg;
    this.objective = Evaluation.parseMetrics(List.of(cfg.objective())).get(0);
  }

  /**
   * The fusions of the grid, in order: level, strategy (as listed), then each method's own grid over {@code
   * tuning.rrfKs}, {@code tuning.alphas} and {@code tuning.normalizations} ({@link FusionMethod#grid}: family by
   * family, along its axis).
   *
   * @throws IllegalArgumentException for a strategy or normalization that is not registered
   */
  public static List<FusionSpec> fusions(TuningConfig cfg) {
    List<Normalization> norms = new ArrayList<>();
    for (String n : cfg.normalizations()) {
      Normalization x = Normalization.ofText(n);
      if (x == null) {
        throw new IllegalArgumentException("unknown normalization " + n);
      }
      norms.add(x);
    }
    FusionMethod.Grid grid = new FusionMethod.Grid(cfg.rrfKs(), cfg.alphas(), norms);
    List<FusionSpec> out = new ArrayList<>();
    for (String level : cfg.levels()) {
      FusionSpec.Level l = FusionSpec.Level.valueOf(level.toUpperCase(Locale.ROOT));
      for (String s : cfg.strategies()) {
        FusionMethod m = FusionMethods.get(s);
        if (m == null) {
          throw new IllegalArgumentException("unknown fusion strategy " + s);
        }
        m.grid().apply(grid).forEach(f -> out.add(new FusionSpec(f, l)));
      }
    }
    return out;
  }

  /**
   * Runs the grid.
   *
   * @param queries judged training queries (each must have qrels)
   * @throws IOException on index or model read errors
   */
  public Result tune(List<Query> queries, String qrelsName) throws IOException {
    IndexVersion v = searcher.version();
    int maxDepth = cfg.depths().stream().mapToInt(Integer::intValue).max().orElseThrow();
    int k = Math.max(objective.k() > 0 ? objective.k() : 10, 10);
    List<FusionSpec> fusions = fusions(cfg);
    List<Point> points = new ArrayList<>();
    Map<String, Map<String, Double>> singleByPoint = new LinkedHashMap<>();
    for (int nprobe : cfg.nprobes()) {
      int np = Math.min(nprobe, v.manifest().nlist());
      List<Candidates> full = new ArrayList<>(queries.size());
      for (Query q : queries) {
        full.add(searcher.candidates(q.text(), opts(np, maxDepth, null)));
      }
      for (int depth : cfg.depths()) {
        List<Candidates> cands = new ArrayList<>(full.size());
        double unionSum = 0;
        for (Candidates c : full) {
          Candidates t = c.truncate(depth);
          cands.add(t);
          unionSum += t.size();
        }
        double p50 = latency(queries, np, depth);
        double bytes = bytesPerQuery(np, unionSum / Math.max(1, queries.size()));
        boolean ok = (cfg.maxP50Ms() <= 0 || p50 <= cfg.maxP50Ms())
            && (cfg.maxBytesPerQuery() <= 0 || bytes <= cfg.maxBytesPerQuery());
        List<Point> group = new ArrayList<>();
        for (FusionSpec f : fusions) {
          double value = mean(queries, cands, c -> c.fuse(f), k);
          group.add(new Point(np, depth, f.toString(), value, value, p50, bytes, ok));
        }
        Map<String, Double> single = new LinkedHashMap<>();
        for (Candidates.Source src : cands.isEmpty() ? List.<Candidates.Source>of() : cands.get(0).sources()) {
          single.put(src.name(), mean(queries, cands, c -> c.rankBy(src.name()), k));
        }
        singleByPoint.put(np + "/" + depth, single);
        points.addAll(smooth(group));
      }
    }
    Point chosen = choose(points, cfg.tolerance());
    Map<String, Double> curve = new LinkedHashMap<>();
    String flat = null;
    Map<String, Double> single = Map.of();
    if (chosen != null) {
      FusionSpec cs = FusionSpec.parse(chosen.fusion());
      for (Point p : points) {
        FusionSpec ps = FusionSpec.parse(p.fusion());
        if (p.nprobe() == chosen.nprobe() && p.depth() == chosen.depth() && sameFamily(ps, cs)) {
          curve.put(axisValue(ps), p.value());
        }
      }
      flat = flatRange(curve, 0.005);
      single = singleByPoint.get(chosen.nprobe() + "/" + chosen.depth());
    }
    return new Result(objective.name(), queries.size(), qrelsName, points, chosen, curve, flat, single);
  }

  /**
   * The choice among the points within budget: the best smoothed objective, except that points within {@code
   * tolerance} of it count as equal and the cheapest of them (fewest bytes read per query) wins; then the higher
   * smoothed objective, then grid order. Null if no point is within budget.
   */
  static Point choose(List<Point> points, double tolerance) {
    double best = Double.NEGATIVE_INFINITY;
    for (Point p : points) {
      if (p.withinBudget()) {
        best = Math.max(best, p.smoothed());
      }
    }
    Point chosen = null;
    for (Point p : points) {
      if (!p.withinBudget() || p.smoothed() < best - tolerance - 1e-12) {
        continue;
      }
      if (chosen == null || p.bytesPerQuery() < chosen.bytesPerQuery()
          || p.bytesPerQuery() == chosen.bytesPerQuery() && p.smoothed() > chosen.smoothed() + 1e-12) {
        chosen = p;
      }
    }
    return chosen;
  }

  private static SearchOptions opts(int nprobe, int depth, FusionSpec f) {
    return SearchOptions.builder().k(depth).nprobe(nprobe).depth(depth).fusion(f).withText(false).build();
  }

  private interface Ranker {
    List<ScoredChunk> rank(Candidates c);
  }

  /** Mean objective over the queries of the rankings {@code r} gives their candidates (chunks → docs by MaxP). */
  private double mean(List<Query> queries, List<Candidates> cands, Ranker r, int k) {
    Map<String, List<ScoredDoc>> docs = new LinkedHashMap<>();
    for (int i = 0; i < queries.size(); i++) {
      List<ScoredChunk> ranking = r.rank(cands.get(i));
      List<ChunkHit> hits = new ArrayList<>(ranking.size());
      for (ScoredChunk c : ranking) {
        ChunkTableFile.Row row = searcher.version().shards().get(c.shard()).table().row(c.id());
        hits.add(new ChunkHit(row.chunkId(), row.docId(), c.score()));
      }
      docs.put(queries.get(i).qid(), Rankings.maxPerDocument(hits, k));
    }
    return Evaluation.of(docs, qrels, List.of(objective)).meansByName().get(objective.name());
  }

  /** Median latency (ms) of a full hybrid search at (nprobe, depth) over the first {@code latencyQueries}. */
  private double latency(List<Query> queries, int nprobe, int depth) throws IOException {
    int n = Math.min(cfg.latencyQueries(), queries.size());
    double[] ms = new double[n];
    SearchOptions o = opts(nprobe, depth, FusionSpec.DEFAULT).toBuilder().k(10).build();
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      searcher.search(new HybridSearcher.Request(queries.get(i).text(), o));
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    Double p = StageEvaluator.percentile(ms, 50);
    return p == null ? 0 : p;
  }

  /** Expected bytes read: nprobe average lists' codes + ids, plus a re-scoring vector per candidate. */
  private double bytesPerQuery(int nprobe, double meanCandidates) throws IOException {
    IndexManifest m = searcher.version().manifest();
    double perList = m.nlist() == 0 ? 0 : (double) m.chunks() / m.nlist();
    double codes = nprobe * perList * (m.codeSize() + 4);
    double vec = m.chunks() == 0 ? 0 : rescoreBytes(m) / (double) m.chunks();
    return codes + meanCandidates * vec;
  }

  private static long rescoreBytes(IndexManifest m) {
    long bytes = 0;
    for (IndexManifest.Shard s : m.shards()) {
      for (IndexManifest.FileEntry f : s.files()) {
        if (f.path().endsWith(io.quarry.core.segment.RescoreVectorsFile.FILE_NAME)) {
          bytes += f.bytes();
        }
      }
    }
    return bytes;
  }

  /**
   * Same level and same family ({@link io.quarry.core.search.fusion.Fusion#family}, e.g. {@code convex:zscore}, {@code
   * wrrf:k=60}, {@code rrf}): points of one curve along the method's axis (α; for rrf: k).
   */
  static boolean sameFamily(FusionSpec a, FusionSpec b) {
    return a.level() == b.level() && a.fusion().family().equals(b.fusion().family());
  }

  static String axisValue(FusionSpec f) {
    return f.fusion().axis();
  }

  /** Each point's value averaged with its neighbours within its family (grid order along α or k). */
  static List<Point> smooth(List<Point> group) {
    List<Point> out = new ArrayList<>(group.size());
    for (int i = 0; i < group.size(); i++) {
      FusionSpec fi = FusionSpec.parse(group.get(i).fusion());
      double sum = group.get(i).value();
      int n = 1;
      for (int j : new int[] {i - 1, i + 1}) {
        if (j >= 0 && j < group.size() && sameFamily(fi, FusionSpec.parse(group.get(j).fusion()))) {
          sum += group.get(j).value();
          n++;
        }
      }
      Point p = group.get(i);
      out.add(new Point(p.nprobe(), p.depth(), p.fusion(), p.value(), sum / n, p.p50Ms(), p.bytesPerQuery(),
          p.withinBudget()));
    }
    return out;
  }

  /** The span of axis values whose objective is within {@code tol} of the curve's best, e.g. "alpha=0.40–0.80". */
  static String flatRange(Map<String, Double> curve, double tol) {
    double best = curve.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    String lo = null;
    String hi = null;
    for (Map.Entry<String, Double> e : curve.entrySet()) {
      if (e.getValue() >= best - tol) {
        if (lo == null) {
          lo = e.getKey();
        }
        hi = e.getKey();
      }
    }
    if (lo == null) {
      return "";
    }
    return lo.equals(hi) ? lo : lo + " … " + hi.substring(hi.indexOf('=') + 1);
  }

  /** A fixed-width text table of the curve and the chosen point, for the console. */
  public static String describe(Result r) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "tuned on %s, %d queries, objective %s%n", r.qrels(), r.queries(),
        r.objective()));
    if (r.chosen() == null) {
      b.append("no grid point fits the budget\n");
      return b.toString();
    }
    Point c = r.chosen();
    b.append(String.format(Locale.ROOT, "chosen: %s, nprobe %d, depth %d: %s %.4f (smoothed %.4f), p50 %.2f ms, "
        + "%.0f bytes/query%n", c.fusion(), c.nprobe(), c.depth(), r.objective(), c.value(), c.smoothed(), c.p50Ms(),
        c.bytesPerQuery()));
    r.singleStages().forEach((s, v) -> b.append(String.format(Locale.ROOT, "  %s alone on these candidates: %.4f%n",
        s, v)));
    FusionSpec cf = FusionSpec.parse(c.fusion());
    b.append("curve (").append(cf.fusion().family())
        .append(cf.level() == FusionSpec.Level.DOC ? ", level=doc" : "")
        .append("), flat within 0.005 of the best over ").append(r.flatRange()).append(":\n");
    r.curve().forEach((a, v) -> b.append(String.format(Locale.ROOT, "  %-12s %.4f%n", a, v)));
    Map<String, Double> bestPer = new LinkedHashMap<>();
    for (Point p : r.points()) {
      FusionSpec f = FusionSpec.parse(p.fusion());
      String fam = f.fusion().family() + (f.level() == FusionSpec.Level.DOC ? " doc" : "")
          + " nprobe " + p.nprobe() + " depth " + p.depth();
      bestPer.merge(fam, p.value(), Math::max);
    }
    b.append("best per family:\n");
    bestPer.forEach((f, v) -> b.append(String.format(Locale.ROOT, "  %-40s %.4f%n", f, v)));
    return b.toString();
  }
}
