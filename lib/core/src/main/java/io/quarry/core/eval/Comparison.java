package io.quarry.core.eval;

import io.quarry.core.platform.Platform;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Compares a current evaluation with a baseline ({@code metrics.json} of each): per-metric mean deltas over the
 * queries both evaluated, per-query wins and losses, a paired t-test and a paired randomization test
 * ({@link PairedTests}), and a regression gate: the comparison fails when a gated metric's mean drops by more than
 * its tolerance ({@code current − baseline < −tolerance}).
 */
public final class Comparison {
  private Comparison() {}

  /**
   * One metric's comparison.
   *
   * @param metric metric name
   * @param baseline baseline mean over the paired queries
   * @param current current mean over the paired queries
   * @param delta current − baseline
   * @param wins queries where current is higher
   * @param losses queries where current is lower
   * @param ties queries with equal values
   * @param pTTest two-sided paired t-test p-value
   * @param pRandomization two-sided paired randomization test p-value
   * @param tolerance gate tolerance, or null when the metric is not gated
   * @param failed true when gated and {@code delta < −tolerance}
   */
  public record MetricDelta(String metric, double baseline, double current, double delta, int wins, int losses,
      int ties, double pTTest, double pRandomization, Double tolerance, boolean failed) {}

  /**
   * A query whose value changed most.
   *
   * @param qid query id
   * @param baseline baseline value
   * @param current current value
   */
  public record QueryDelta(String qid, double baseline, double current) {}

  /**
   * The comparison.
   *
   * @param baselineStage stage compared in the baseline
   * @param currentStage stage compared in the current evaluation
   * @param pairedQueries queries evaluated by both
   * @param metrics one row per metric present in both
   * @param worstQueries for the first gated (else first) metric, the largest per-query drops, worst first
   * @param bestQueries and the largest gains
   * @param passed true unless a gated metric failed
   */
  public record Result(String baselineStage, String currentStage, int pairedQueries, List<MetricDelta> metrics,
      List<QueryDelta> worstQueries, List<QueryDelta> bestQueries, boolean passed) {}

  /**
   * Compares stage {@code stage} (null: each report's final stage) of two reports.
   *
   * @param gate metric name to tolerated absolute drop
   * @throws IllegalArgumentException if the stage is missing, no query is shared, or a gated metric is absent
   */
  public static Result compare(EvalReport baseline, EvalReport current, String stage, Map<String, Double> gate,
      int permutations, long seed) {
    stage = io.quarry.core.search.Stages.canonical(stage, "--stage");
    EvalReport.StageResult b = pick(baseline, stage, "baseline");
    EvalReport.StageResult c = pick(current, stage, "current");
    List<String> qids = new ArrayList<>();
    for (String q : c.perQuery().keySet()) {
      if (b.perQuery().containsKey(q)) {
        qids.add(q);
      }
    }
    if (qids.isEmpty()) {
      throw new IllegalArgumentException("baseline and current evaluations share no query");
    }
    for (String g : gate.keySet()) {
      if (!b.metrics().containsKey(g) || !c.metrics().containsKey(g)) {
        throw new IllegalArgumentException("gated metric " + g + " is missing from the "
            + (b.metrics().containsKey(g) ? "current" : "baseline") + " evaluation (have " + c.metrics().keySet()
            + ")");
      }
    }
    List<MetricDelta> rows = new ArrayList<>();
    boolean passed = true;
    String focus = null;
    for (String m : c.metrics().keySet()) {
      if (!b.metrics().containsKey(m)) {
        continue;
      }
      double[] d = new double[qids.size()];
      double sb = 0;
      double sc = 0;
      int wins = 0;
      int losses = 0;
      for (int i = 0; i < d.length; i++) {
        double vb = b.perQuery().get(qids.get(i)).get(m);
        double vc = c.perQuery().get(qids.get(i)).get(m);
        sb += vb;
        sc += vc;
        d[i] = vc - vb;
        if (d[i] > 0) {
          wins++;
        } else if (d[i] < 0) {
          losses++;
        }
      }
      double mb = sb / d.length;
      double mc = sc / d.length;
      Double tol = gate.get(m);
      boolean failed = tol != null && mc - mb < -tol;
      passed &= !failed;
      if (focus == null && tol != null) {
        focus = m;
      }
      rows.add(new MetricDelta(m, mb, mc, mc - mb, wins, losses, d.length - wins - losses, PairedTests.tTest(d),
          PairedTests.randomization(d, permutations, seed), tol, failed));
    }
    if (focus == null && !rows.isEmpty()) {
      focus = rows.get(0).metric();
    }
    List<QueryDelta> deltas = new ArrayList<>();
    for (String q : qids) {
      deltas.add(new QueryDelta(q, b.perQuery().get(q).get(focus), c.perQuery().get(q).get(focus)));
    }
    Comparator<QueryDelta> byDelta = Comparator.comparingDouble((QueryDelta x) -> x.current() - x.baseline())
        .thenComparing(QueryDelta::qid);
    List<QueryDelta> worst = deltas.stream().filter(x -> x.current() < x.baseline()).sorted(byDelta).limit(10)
        .toList();
    List<QueryDelta> best = deltas.stream().filter(x -> x.current() > x.baseline()).sorted(byDelta.reversed())
        .limit(10).toList();
    return new Result(b.name(), c.name(), qids.size(), rows, worst, best, passed);
  }

  /**
   * Warnings for a comparison whose two evaluations embedded their chunks or queries on different kinds of processor
   * (instruction sets that select ONNX Runtime kernels) or with different ONNX Runtime versions: the int8 models'
   * vectors, and the metrics computed from them, then differ without any change of code, config or data (see
   * docs/benchmarks.md, "Reproducibility across processors"). Also a warning when the baseline does not record its
   * platforms (a {@code metrics.json} of an older version) but the current one does. Empty when the platforms agree.
   */
  public static List<String> platformWarnings(EvalReport baseline, EvalReport current) {
    List<String> w = new ArrayList<>();
    String cause = "metric differences may come from the hardware or runtime (int8 models round differently per "
        + "kernel path), not from a code or config change";
    if (current.passagePlatforms() != null && baseline.passagePlatforms() == null) {
      w.add("the baseline does not record where its chunks were embedded (older metrics.json); the current ones were "
          + "embedded on " + Platform.describe(current.passagePlatforms()) + ": if the baseline ran on another kind "
          + "of processor, " + cause);
    } else if (current.passagePlatforms() != null
        && !Platform.distinct(baseline.passagePlatforms()).equals(Platform.distinct(current.passagePlatforms()))) {
      w.add("chunks embedded on a different platform: baseline " + Platform.describe(baseline.passagePlatforms())
          + ", current " + Platform.describe(current.passagePlatforms()) + "; " + cause);
    }
    if (current.queryPlatform() != null && baseline.queryPlatform() != null
        && !baseline.queryPlatform().equals(current.queryPlatform())) {
      w.add("queries embedded on a different platform: baseline " + baseline.queryPlatform().describe()
          + ", current " + current.queryPlatform().describe() + "; " + cause);
    }
    return w;
  }

  private static EvalReport.StageResult pick(EvalReport r, String stage, String which) {
    String s = stage == null ? r.finalStage() : stage;
    EvalReport.StageResult st = r.stage(s);
    if (st == null) {
      List<String> names = r.stages().stream().map(EvalReport.StageResult::name).toList();
      throw new IllegalArgumentException(which + " evaluation has no stage '" + s + "' (has " + names + ")");
    }
    if (st.perQuery() == null) {
      throw new IllegalArgumentException(which + " evaluation has no per-query values for stage " + s);
    }
    return st;
  }

  /** Markdown rendering (also printed by {@code quarry compare}). */
  public static String toMarkdown(Result r) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Comparison: `").append(r.currentStage()).append("` vs baseline `").append(r.baselineStage())
        .append("` over ").append(r.pairedQueries()).append(" queries — ").append(r.passed() ? "PASSED" : "FAILED")
        .append("\n\n| metric | baseline | current | Δ | wins / losses / ties | p (t-test) | p (randomization) |"
            + " gate |\n|---|---:|---:|---:|---|---:|---:|---|\n");
    for (MetricDelta m : r.metrics()) {
      sb.append(String.format(Locale.ROOT, "| %s | %.4f | %.4f | %+.4f | %d / %d / %d | %.4f | %.4f | %s |%n",
          m.metric(), m.baseline(), m.current(), m.delta(), m.wins(), m.losses(), m.ties(), m.pTTest(),
          m.pRandomization(), m.tolerance() == null ? "—" : (m.failed() ? "**FAIL** " : "ok ")
              + String.format(Locale.ROOT, "(tolerance %.4f)", m.tolerance())));
    }
    appendQueries(sb, "Largest per-query losses", r.worstQueries());
    appendQueries(sb, "Largest per-query wins", r.bestQueries());
    return sb.toString();
  }

  private static void appendQueries(StringBuilder sb, String title, List<QueryDelta> qs) {
    if (qs.isEmpty()) {
      return;
    }
    sb.append("\n").append(title).append(": ");
    List<String> parts = new ArrayList<>();
    for (QueryDelta q : qs) {
      parts.add(String.format(Locale.ROOT, "%s (%.3f → %.3f)", q.qid(), q.baseline(), q.current()));
    }
    sb.append(String.join(", ", parts)).append('\n');
  }

  /** The result as a JSON-friendly map. */
  public static Map<String, Object> toMap(Result r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("passed", r.passed());
    m.put("baselineStage", r.baselineStage());
    m.put("currentStage", r.currentStage());
    m.put("pairedQueries", r.pairedQueries());
    m.put("metrics", r.metrics());
    m.put("worstQueries", r.worstQueries());
    m.put("bestQueries", r.bestQueries());
    return m;
  }
}
