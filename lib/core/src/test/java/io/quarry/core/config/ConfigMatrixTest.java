package io.quarry.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An experiment's axes as a {@code matrix} section of a config file. */
class ConfigMatrixTest {
  @Test
  void theMatrixSectionGivesTheAxesAndIsNotPartOfTheRunsConfig() {
    ConfigLoader.Source base = new ConfigLoader.Source("base.yaml", """
        matrix:
          embedding.model: [bge-small-en-v1.5-q, all-minilm-l6-v2-q]
          quantizer.spec: IVF16,PQ24x8
        segments: {shards: 2}
        """);
    ConfigLoader.Source top = new ConfigLoader.Source("exp.yaml", """
        matrix:
          quantizer.spec: ["IVF16,PQ24x8", "IVF32,PQ48x8"]
          evaluation.stages: [[bm25], [bm25, hybrid]]
        """);
    assertThat(ConfigMatrix.axes(List.of(base, top))).isEqualTo(Map.of(
        "embedding.model", List.of("bge-small-en-v1.5-q", "all-minilm-l6-v2-q"),
        "quantizer.spec", List.of("IVF16,PQ24x8", "IVF32,PQ48x8"),
        "evaluation.stages", List.of("[\"bm25\"]", "[\"bm25\",\"hybrid\"]")));
    QuarryConfig c = ConfigLoader.load(List.of(base, top), List.of());
    assertThat(c.segments().shards()).isEqualTo(2);
    assertThat(ConfigLoader.toJson(c)).doesNotContain("matrix");
    // a list value is a valid --set value
    assertThat(ConfigLoader.load(List.of(), List.of("evaluation.stages=[\"bm25\",\"hybrid\"]")).evaluation()
        .stages()).containsExactly("bm25", "hybrid");
  }

  @Test
  void itsProblemsAreListedWithTheConfigsOwn() {
    ConfigLoader.Source bad = new ConfigLoader.Source("exp.yaml", """
        matrix:
          quantizer.spec: []
          paths.work: [/a, /b]
          embedding.model: [x, x]
          quantizer.spec: [IVF16,PQ24x8]
        chunking: {maxTokens: 0}
        """);
    assertThatThrownBy(() -> ConfigLoader.load(List.of(bad), List.of()))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).violations()).contains(
            "matrix.quantizer.spec: duplicate key at exp.yaml:5 (first at line 2)",
            "matrix.paths.work: not an axis: paths are set per variant by the matrix (under <paths.work>/matrix)",
            "matrix.embedding.model: value x given twice",
            "chunking.maxTokens: must be > 0, got 0"));
    assertThatThrownBy(() -> ConfigMatrix.axes(List.of(new ConfigLoader.Source("m.yaml", "matrix: [a, b]\n"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("matrix: must be a mapping");
    assertThatThrownBy(() -> ConfigMatrix.axes(List.of(new ConfigLoader.Source("m.yaml",
        "matrix: {quantizer.spec: []}\n")))).hasMessageContaining("matrix.quantizer.spec: no value");
  }
}
