package io.quarry.core.eval;

import io.quarry.core.config.EvaluationConfig;
import io.quarry.core.eval.StageEvaluator.StageRun;
import io.quarry.core.search.Stages;
import io.quarry.core.segment.IndexManifest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Spark-free decisions of an evaluation ({@code quarry evaluate}): which stages run in which order, which inputs
 * they need, which runs explain the final stage's losses, and how the stage runs become {@code metrics.json}'s
 * stages and parameters. The job only moves data (embeddings, run files, outputs) around these decisions.
 */
public final class EvaluationPlan {
  private EvaluationPlan() {}

  /** The configured stages in pipeline order ({@link Stages#ALL}). */
  public static List<String> order(EvaluationConfig e) {
    return Stages.ALL.stream().filter(e.stages()::contains).toList();
  }

  /** Whether any configured stage searches the index version (every stage but {@code exact}). */
  public static boolean needsIndex(EvaluationConfig e) {
    return e.stages().stream().anyMatch(s -> !s.equals(Stages.EXACT));
  }

  /** Whether the exact search runs: for the {@code exact} stage, and for the ANN recall of {@code ivfpq}. */
  public static boolean needsExact(EvaluationConfig e) {
    return e.stages().contains(Stages.EXACT) || e.stages().contains(Stages.IVFPQ);
  }

  /** The final stage: the last one that ran. */
  public static String finalStage(Map<String, StageRun> runs) {
    String last = null;
    for (String s : runs.keySet()) {
      last = s;
    }
    return last;
  }

  /**
   * The runs whose top-k the final stage re-ranked, for loss attribution: for {@code hybrid} the single signals it
   * fused ({@code bm25}, {@code rescore}); for {@code cross-encoder} the stage below it; for {@code rescore} the
   * {@code ivfpq} run; none otherwise. Entries may be null (a stage that did not run).
   */
  public static List<StageRun> lossBaselines(String finalStage, Map<String, StageRun> runs) {
    return switch (finalStage) {
      case Stages.HYBRID -> Arrays.asList(runs.get(Stages.BM25), runs.get(Stages.RESCORE));
      case Stages.CROSS_ENCODER -> Arrays.asList(runs.containsKey(Stages.HYBRID) ? runs.get(Stages.HYBRID)
          : runs.get(Stages.RESCORE));
      case Stages.RESCORE -> Arrays.asList(runs.get(Stages.IVFPQ));
      default -> List.of();
    };
  }

  /** The loss attribution of the final stage, from the runs at hand. */
  public static LossAttribution.Summary loss(StageEvaluator se, Qrels qrels, int k, Map<String, StageRun> runs,
      StageRun exact) {
    String fin = finalStage(runs);
    return se.lossAttribution(qrels, k, runs.get(fin), exact, runs.get(Stages.BM25), runs.get(Stages.IVFPQ),
        lossBaselines(fin, runs));
  }

  /** The cutoff of "final top-k" for loss attribution: the first metric's cutoff, else 10. */
  public static int lossCutoff(List<Measure> metrics) {
    for (Measure m : metrics) {
      if (m.k() > 0) {
        return m.k();
      }
    }
    return 10;
  }

  /** The run file of a stage, relative to the evaluation directory. */
  public static String runFile(String stage) {
    return "runs/" + stage + ".trec";
  }

  /**
   * One stage's entry of {@code metrics.json}: its evaluation, ANN recall (for {@code ivfpq} when the exact run is
   * at hand) and latency percentiles.
   */
  public static EvalReport.StageResult result(StageRun r, Evaluation ev, StageRun exact, int annRecallK) {
    Double ann = r.name().equals(Stages.IVFPQ) && exact != null
        ? StageEvaluator.annRecall(r, exact, annRecallK) : null;
    return new EvalReport.StageResult(r.name(), r.description(), runFile(r.name()), ev.queryCount(),
        ev.emptyRankings(), ev.meansByName(), ann, StageEvaluator.percentile(r.latencyMs(), 50),
        StageEvaluator.percentile(r.latencyMs(), 95), ev.perQueryByName());
  }

  /**
   * The search parameters recorded in {@code metrics.json}.
   *
   * @param manifest the evaluated version's manifest, or null without an index
   * @param metric the distance metric's name
   * @param crossEncoder whether the cross-encoder ran
   */
  public static Map<String, Object> parameters(EvaluationConfig e, Map<String, StageRun> runs,
      IndexManifest manifest, String metric, boolean crossEncoder) {
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("k", e.k());
    params.put("nprobe", e.nprobe());
    params.put("candidates", e.candidates());
    if (runs.containsKey(Stages.HYBRID)) {
      params.put("fusion", runs.get(Stages.HYBRID).description());
    }
    if (manifest != null && manifest.search() != null) {
      params.put("tuned", manifest.search());
    }
    params.put("metric", metric);
    params.put("annRecallK", e.annRecallK());
    if (crossEncoder) {
      params.put("crossEncoder", e.crossEncoder());
      params.put("crossEncoderDepth", e.crossEncoderDepth());
      params.put("crossEncoderMaxLength", e.crossEncoderMaxLength());
    }
    return params;
  }

  /** Names of the runs, in order (for the job summary). */
  public static List<String> names(Map<String, StageRun> runs) {
    return new ArrayList<>(runs.keySet());
  }
}
