package io.quarry.core.eval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One leaderboard over N evaluations ({@code metrics.json} of each): per stage, every run's mean metrics, bytes per
 * vector and median latency, and each run's paired comparison with a chosen baseline run, corrected for the N − 1
 * comparisons with {@link Holm}.
 *
 * <p>Boards: {@value #FINAL} (each run's final stage, what {@code quarry compare} compares by default), then one
 * board per stage name any run evaluated, in order of first appearance. The pairwise test is
 * {@link Comparison#compare} itself (paired randomization test over the per-query values of the queries both runs
 * evaluated, {@code permutations} sign flips from {@code seed}; Smucker, Allan and Carterette, CIKM 2007), so each
 * unadjusted p-value is the one {@code quarry compare --baseline <baseline>} prints for that run with the same
 * permutations and seed. The family Holm corrects is one board and one metric: the runs compared with the baseline
 * on it (N − 1 when every run has the stage and its per-query values).
 *
 * <p>Bytes per vector of a stage come from the evaluation's sweep points of that stage (index bytes read per vector:
 * PQ code + id, plus the re-scoring vector where used); latency is the stage's median per-query latency. Values an
 * evaluation does not record are absent (rendered {@code —}).
 */
public final class Leaderboard {
  private Leaderboard() {}

  /** Metrics shown by default, those an evaluation has. */
  public static final List<String> DEFAULT_METRICS = List.of("nDCG@10", "Recall@100", "MRR@10", "MAP");
  /** Name of the board of each run's final stage. */
  public static final String FINAL = "final";
  /** Mark of a run significantly better than the baseline (Holm-adjusted p ≤ α). */
  public static final String BETTER = "▲";
  /** Mark of a run significantly worse than the baseline (Holm-adjusted p ≤ α). */
  public static final String WORSE = "▼";

  /**
   * One evaluation.
   *
   * @param label unique name of the run in the leaderboard (e.g. its evaluation run id)
   * @param report its {@code metrics.json}
   * @param buildSeconds wall seconds to build what it evaluated (e.g. a matrix variant's chunk, embed, train and
   *     build stages, {@code build.json} beside {@code metrics.json}), or null when not recorded
   */
  public record Run(String label, EvalReport report, Double buildSeconds) {
    public Run(String label, EvalReport report) {
      this(label, report, null);
    }
  }

  /**
   * What one run evaluated.
   *
   * @param label the run's label
   * @param runId evaluation run id recorded in {@code metrics.json}
   * @param modelId embedding model id
   * @param indexSpec index spec (FAISS notation)
   * @param indexVersion index version (null when no index was used)
   * @param finalStage the run's final stage
   * @param queries judged queries evaluated
   * @param buildSeconds wall seconds to build what it evaluated ({@link Run#buildSeconds}), or null
   */
  public record RunInfo(String label, String runId, String modelId, String indexSpec, String indexVersion,
      String finalStage, int queries,
      @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
      Double buildSeconds) {
    public RunInfo(String label, String runId, String modelId, String indexSpec, String indexVersion,
        String finalStage, int queries) {
      this(label, runId, modelId, indexSpec, indexVersion, finalStage, queries, null);
    }
  }

  /**
   * A run against the baseline on one metric, over the queries both evaluated.
   *
   * @param metric metric name
   * @param baseline baseline mean over the paired queries
   * @param current the run's mean over the paired queries
   * @param delta {@code current − baseline}
   * @param wins queries where the run is higher
   * @param losses queries where it is lower
   * @param ties queries with equal values
   * @param p two-sided paired randomization test p-value, unadjusted (as {@code quarry compare})
   * @param pHolm Holm-adjusted p-value over the board's comparisons on this metric
   * @param significant {@code pHolm ≤ α}
   */
  public record Versus(String metric, double baseline, double current, double delta, int wins, int losses, int ties,
      double p, double pHolm, boolean significant) {}

  /**
   * One run on one board.
   *
   * @param run the run's label
   * @param stage the run's stage shown (on {@value #FINAL}: its final stage); null when the run lacks the stage
   * @param metrics metric name to mean over the judged queries (metrics the evaluation lacks are absent)
   * @param bytesPerVector index bytes read per vector, or null when not recorded
   * @param latencyMsP50 median per-query latency in ms, or null when not measured
   * @param baseline true for the baseline run
   * @param versus metric name to the comparison with the baseline (empty for the baseline and for runs not compared)
   */
  public record Row(String run, String stage, Map<String, Double> metrics, Double bytesPerVector, Double latencyMsP50,
      boolean baseline, Map<String, Versus> versus) {}

  /**
   * One board.
   *
   * @param name {@value #FINAL} or a stage name
   * @param metrics the metric columns (the requested metrics some run on the board has), in the requested order
   * @param rows one per run, best first on the leaderboard's metric (runs without it last, then by label)
   * @param comparisons runs compared with the baseline (the Holm family size per metric, when every compared run
   *     has the metric)
   * @param notes why a run was not compared
   */
  public record Board(String name, List<String> metrics, List<Row> rows, int comparisons, List<String> notes) {}

  /**
   * The leaderboard.
   *
   * @param baseline the baseline run's label
   * @param metric the metric rows are ranked by (and the charts show)
   * @param permutations sign flips of each randomization test
   * @param seed their seed
   * @param alpha family-wise significance level of the marks
   * @param runs the runs, in input order
   * @param boards {@value #FINAL} first, then one per stage
   */
  public record Result(String baseline, String metric, int permutations, long seed, double alpha, List<RunInfo> runs,
      List<Board> boards) {}

  /**
   * Builds the leaderboard.
   *
   * @param runs at least two runs with distinct labels
   * @param baseline label of the baseline run
   * @param metric metric to rank by; some run must have it
   * @param metrics metric columns (those no run has are left out)
   * @param permutations sign flips per randomization test (≥ 1)
   * @param seed their seed
   * @param alpha family-wise level in (0, 1)
   * @throws IllegalArgumentException on fewer than two runs, duplicate labels, an unknown baseline, a metric no run
   *     has, or bad {@code permutations}/{@code alpha}
   */
  public static Result build(List<Run> runs, String baseline, String metric, List<String> metrics, int permutations,
      long seed, double alpha) {
    if (runs.size() < 2) {
      throw new IllegalArgumentException("a leaderboard needs at least 2 evaluations, got " + runs.size());
    }
    if (permutations < 1) {
      throw new IllegalArgumentException("permutations must be >= 1, got " + permutations);
    }
    if (!(alpha > 0 && alpha < 1)) {
      throw new IllegalArgumentException("alpha must be in (0, 1), got " + alpha);
    }
    Set<String> labels = new HashSet<>();
    Run base = null;
    List<RunInfo> infos = new ArrayList<>();
    Set<String> stages = new LinkedHashSet<>();
    boolean hasMetric = false;
    for (Run r : runs) {
      if (!labels.add(r.label())) {
        throw new IllegalArgumentException("two evaluations are labelled '" + r.label() + "'");
      }
      if (r.label().equals(baseline)) {
        base = r;
      }
      EvalReport e = r.report();
      infos.add(new RunInfo(r.label(), e.runId(), e.modelId(), e.indexSpec(), e.indexVersion(), e.finalStage(),
          e.dataset() == null ? 0 : e.dataset().queryCount(), r.buildSeconds()));
      for (EvalReport.StageResult s : e.stages()) {
        stages.add(s.name());
        hasMetric |= s.metrics().containsKey(metric);
      }
    }
    if (base == null) {
      throw new IllegalArgumentException("baseline '" + baseline + "' is none of the evaluations " + labels);
    }
    if (!hasMetric) {
      throw new IllegalArgumentException("no evaluation has the metric " + metric);
    }
    List<Board> boards = new ArrayList<>();
    boards.add(board(FINAL, runs, base, metric, metrics, permutations, seed, alpha));
    for (String s : stages) {
      boards.add(board(s, runs, base, metric, metrics, permutations, seed, alpha));
    }
    return new Result(baseline, metric, permutations, seed, alpha, infos, boards);
  }

  private static EvalReport.StageResult stageOf(EvalReport r, String board) {
    return r.stage(board.equals(FINAL) ? r.finalStage() : board);
  }

  private static Board board(String name, List<Run> runs, Run base, String metric, List<String> wanted,
      int permutations, long seed, double alpha) {
    List<String> cols = new ArrayList<>();
    for (String m : wanted) {
      for (Run r : runs) {
        EvalReport.StageResult s = stageOf(r.report(), name);
        if (s != null && s.metrics().containsKey(m) && !cols.contains(m)) {
          cols.add(m);
        }
      }
    }
    // pairwise comparisons with the baseline: compare's own computation
    List<String> notes = new ArrayList<>();
    Map<String, Comparison.Result> compared = new LinkedHashMap<>();
    EvalReport.StageResult bs = stageOf(base.report(), name);
    for (Run r : runs) {
      if (r == base || stageOf(r.report(), name) == null) {
        continue;
      }
      if (bs == null) {
        notes.add("the baseline " + base.label() + " has no stage " + name + ": no run is compared on it");
        break;
      }
      try {
        compared.put(r.label(), Comparison.compare(base.report(), r.report(), name.equals(FINAL) ? null : name,
            Map.of(), permutations, seed));
      } catch (IllegalArgumentException e) {
        notes.add(r.label() + " not compared: " + e.getMessage());
      }
    }
    Map<String, Map<String, Versus>> versus = new LinkedHashMap<>();
    for (String m : cols) {
      List<String> who = new ArrayList<>();
      List<Comparison.MetricDelta> deltas = new ArrayList<>();
      compared.forEach((label, c) -> c.metrics().stream().filter(d -> d.metric().equals(m)).findFirst()
          .ifPresent(d -> {
            who.add(label);
            deltas.add(d);
          }));
      double[] p = deltas.stream().mapToDouble(Comparison.MetricDelta::pRandomization).toArray();
      double[] adj = Holm.adjust(p);
      for (int i = 0; i < p.length; i++) {
        Comparison.MetricDelta d = deltas.get(i);
        versus.computeIfAbsent(who.get(i), x -> new LinkedHashMap<>()).put(m, new Versus(m, d.baseline(),
            d.current(), d.delta(), d.wins(), d.losses(), d.ties(), p[i], adj[i], adj[i] <= alpha));
      }
    }
    List<Row> rows = new ArrayList<>();
    for (Run r : runs) {
      EvalReport.StageResult s = stageOf(r.report(), name);
      Map<String, Double> ms = new LinkedHashMap<>();
      if (s != null) {
        for (String m : cols) {
          if (s.metrics().containsKey(m)) {
            ms.put(m, s.metrics().get(m));
          }
        }
      }
      rows.add(new Row(r.label(), s == null ? null : s.name(), ms, s == null ? null : bytesPerVector(r.report(),
          s.name()), s == null ? null : s.latencyMsP50(), r == base, versus.getOrDefault(r.label(), Map.of())));
    }
    rows.sort(Comparator.comparing((Row x) -> x.metrics().get(metric), Comparator.nullsLast(
        Comparator.<Double>reverseOrder())).thenComparing(Row::run));
    return new Board(name, cols, rows, compared.size(), notes);
  }

  /** Index bytes read per vector by {@code stage}, from the evaluation's sweep points of that stage; null if none. */
  static Double bytesPerVector(EvalReport r, String stage) {
    if (r.sweeps() == null) {
      return null;
    }
    for (EvalReport.SweepPoint p : r.sweeps()) {
      if (p.stage().equals(stage) && p.bytesPerVector() != null) {
        return p.bytesPerVector();
      }
    }
    return null;
  }
}
