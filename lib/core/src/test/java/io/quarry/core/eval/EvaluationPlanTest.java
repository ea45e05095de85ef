package io.quarry.core.eval;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.EvaluationConfig;
import io.quarry.core.eval.StageEvaluator.StageRun;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EvaluationPlanTest {
  static EvaluationConfig stages(String list) {
    return ConfigLoader.load(List.of(), List.of("evaluation.stages=" + list)).evaluation();
  }

  static StageRun run(String name) {
    return new StageRun(name, name, List.of(), Map.of(), null);
  }

  @Test
  void stagesRunInPipelineOrderWhateverTheConfigOrder() {
    EvaluationConfig e = stages("[hybrid, ivfpq, bm25, exact]");
    assertThat(EvaluationPlan.order(e)).containsExactly("bm25", "exact", "ivfpq", "hybrid");
    assertThat(EvaluationPlan.needsIndex(e)).isTrue();
    assertThat(EvaluationPlan.needsExact(e)).isTrue();
    assertThat(EvaluationPlan.needsIndex(stages("[exact]"))).isFalse();
    assertThat(EvaluationPlan.needsExact(stages("[bm25, rescore, hybrid]"))).isFalse();
    assertThat(EvaluationPlan.needsExact(stages("[ivfpq]"))).isTrue(); // for its ANN recall
  }

  @Test
  void lossBaselinesAreTheRunsTheFinalStageReRanked() {
    Map<String, StageRun> runs = new LinkedHashMap<>();
    for (String s : List.of("bm25", "exact", "ivfpq", "rescore", "hybrid")) {
      runs.put(s, run(s));
    }
    assertThat(EvaluationPlan.finalStage(runs)).isEqualTo("hybrid");
    assertThat(EvaluationPlan.lossBaselines("hybrid", runs)).extracting(StageRun::name)
        .containsExactly("bm25", "rescore");
    assertThat(EvaluationPlan.lossBaselines("rescore", runs)).extracting(StageRun::name).containsExactly("ivfpq");
    assertThat(EvaluationPlan.lossBaselines("cross-encoder", runs)).extracting(StageRun::name)
        .containsExactly("hybrid");
    runs.remove("hybrid");
    assertThat(EvaluationPlan.lossBaselines("cross-encoder", runs)).extracting(StageRun::name)
        .containsExactly("rescore");
    assertThat(EvaluationPlan.lossBaselines("ivfpq", runs)).isEmpty();
    assertThat(EvaluationPlan.lossBaselines("bm25", runs)).isEmpty();
  }

  @Test
  void lossCutoffIsTheFirstMetricsCutoff() {
    assertThat(EvaluationPlan.lossCutoff(Evaluation.parseMetrics(List.of("MAP", "nDCG@20", "Recall@100"))))
        .isEqualTo(20);
    assertThat(EvaluationPlan.lossCutoff(Evaluation.parseMetrics(List.of("MAP")))).isEqualTo(10);
  }
}
