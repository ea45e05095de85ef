package io.quarry.core.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders an {@link EvalReport} as the short Markdown summary {@code report.md}. */
public final class MarkdownReport {
  private MarkdownReport() {}

  static String f4(Double v) {
    return v == null ? "—" : String.format(Locale.ROOT, "%.4f", v);
  }

  static String f1(Double v) {
    return v == null ? "—" : String.format(Locale.ROOT, "%.1f", v);
  }

  /** The Markdown text. */
  public static String render(EvalReport r) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Quarry evaluation `").append(r.runId()).append("`\n\n");
    EvalReport.Dataset d = r.dataset();
    sb.append("| | |\n|---|---|\n");
    row(sb, "queries", "`" + d.queries() + "` (" + d.format() + ", sha256 `" + shortHash(d.queriesSha256()) + "…`)");
    row(sb, "qrels", "`" + d.qrels() + "` (sha256 `" + shortHash(d.qrelsSha256()) + "…`)");
    row(sb, "judged queries / judgments", d.queryCount() + " / " + d.judgments());
    row(sb, "index version", r.indexVersion() == null ? "—" : "`" + r.indexVersion() + "`");
    row(sb, "index spec", r.indexSpec() == null ? "—" : "`" + r.indexSpec() + "`");
    row(sb, "embedding model", "`" + r.modelId() + "`");
    row(sb, "config hash", "`" + r.configHash() + "`");
    if (r.parameters() != null) {
      List<String> ps = new ArrayList<>();
      r.parameters().forEach((k, v) -> ps.add(k + "=" + v));
      row(sb, "parameters", String.join(", ", ps));
    }
    sb.append('\n');
    List<String> metrics = new ArrayList<>(r.stages().get(0).metrics().keySet());
    sb.append("## Metrics per stage (mean over judged queries; final stage: `").append(r.finalStage()).append("`)\n\n");
    sb.append("| stage |");
    for (String m : metrics) {
      sb.append(' ').append(m).append(" |");
    }
    sb.append(" ANN recall | p50 ms | run |\n|---|");
    sb.append("---:|".repeat(metrics.size() + 2)).append("---|\n");
    for (EvalReport.StageResult s : r.stages()) {
      sb.append("| ").append(s.name()).append(s.name().equals(r.finalStage()) ? " **(final)**" : "").append(" |");
      for (String m : metrics) {
        sb.append(' ').append(f4(s.metrics().get(m))).append(" |");
      }
      sb.append(' ').append(f4(s.annRecall())).append(" | ").append(f1(s.latencyMsP50())).append(" | `")
          .append(s.runFile()).append("` |\n");
    }
    sb.append('\n');
    if (r.gain() != null) {
      EvalReport.FinalGain g = r.gain();
      sb.append(String.format(Locale.ROOT, "**Final stage `%s` vs the best single-signal stage `%s`** on %s: %.4f vs "
          + "%.4f, %+.4f (better on %d queries, worse on %d; paired randomization test p = %.4f, paired t-test p = "
          + "%.4f).%n%n", g.finalStage(), g.baseline(), g.metric(), g.finalValue(), g.baselineValue(), g.delta(),
          g.improved(), g.worse(), g.pRandomization(), g.pTTest()));
    }
    for (EvalReport.StageResult s : r.stages()) {
      sb.append("- **").append(s.name()).append("**: ").append(s.description());
      if (s.emptyRankings() > 0) {
        sb.append(" (").append(s.emptyRankings()).append(" queries got no result)");
      }
      sb.append('\n');
    }
    if (r.tuning() != null) {
      EvalReport.Tuning t = r.tuning();
      sb.append("\n## Tuning of the hybrid stage (`quarry tune`, on training qrels)\n\n");
      sb.append("Tuned on `").append(t.tunedOn()).append("`; chosen: `").append(t.chosen()).append("`, ")
          .append(t.objective()).append(' ').append(f4(t.value())).append(" on the training queries");
      if (t.singleStages() != null) {
        t.singleStages().forEach((k, v) -> sb.append("; ").append(k).append(" alone ").append(f4(v)));
      }
      sb.append(". Within 0.005 of the best over ").append(t.flatRange()).append(".\n\n| ")
          .append("point | ").append(t.objective()).append(" |\n|---|---:|\n");
      t.curve().forEach((k, v) -> sb.append("| ").append(k).append(" | ").append(f4(v)).append(" |\n"));
    }
    if (r.loss() != null) {
      LossAttribution.Summary l = r.loss();
      sb.append("\n## Loss attribution (relevant documents missing from the final top ").append(l.k()).append(")\n\n");
      sb.append(l.found()).append(" of ").append(l.relevant()).append(" relevant (query, document) pairs are in the "
          + "final top ").append(l.k()).append(".\n\n| lost at | count | examples (query/doc) |\n|---|---:|---|\n");
      for (Map.Entry<String, Integer> e : l.counts().entrySet()) {
        sb.append("| ").append(e.getKey()).append(" | ").append(e.getValue()).append(" | ")
            .append(String.join(", ", l.examples().getOrDefault(e.getKey(), List.of()))).append(" |\n");
      }
    }
    if (r.sweeps() != null && !r.sweeps().isEmpty()) {
      sb.append("\n## Sweeps\n\n| stage | parameter | value |");
      for (String m : metrics) {
        sb.append(' ').append(m).append(" |");
      }
      sb.append(" ANN recall | p50 ms | bytes/vector |\n|---|---|---:|").append("---:|".repeat(metrics.size() + 3))
          .append('\n');
      for (EvalReport.SweepPoint p : r.sweeps()) {
        sb.append("| ").append(p.stage()).append(" | ").append(p.parameter()).append(" | ").append(p.value()).append(" |");
        for (String m : metrics) {
          sb.append(' ').append(f4(p.metrics().get(m))).append(" |");
        }
        sb.append(' ').append(f4(p.annRecall())).append(" | ").append(f1(p.latencyMsP50())).append(" | ")
            .append(f1(p.bytesPerVector())).append(" |\n");
      }
    }
    if (r.notes() != null && !r.notes().isEmpty()) {
      sb.append("\n## Notes\n\n");
      for (String n : r.notes()) {
        sb.append("- ").append(n).append('\n');
      }
    }
    sb.append("\nMetrics follow trec_eval (ndcg_cut, recall, P, recip_rank on the top k, map, success); documents are "
        + "ranked by their best chunk's score. Every judged query counts; one without a relevant document scores 0.\n");
    return sb.toString();
  }

  private static void row(StringBuilder sb, String k, String v) {
    sb.append("| ").append(k).append(" | ").append(v).append(" |\n");
  }

  private static String shortHash(String h) {
    return h == null ? "?" : h.substring(0, Math.min(12, h.length()));
  }
}
