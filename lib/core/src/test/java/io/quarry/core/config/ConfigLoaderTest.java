package io.quarry.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

  private static ConfigLoader.Source yaml(String name, String text) {
    return new ConfigLoader.Source(name, text);
  }

  @Test
  void defaultsAloneAreValid() {
    QuarryConfig c = ConfigLoader.load(List.of(), List.of());
    assertThat(c.schemaVersion()).isEqualTo(1);
    assertThat(c.quantizer().spec()).isEqualTo("IVF64,PQ48x8");
    assertThat(c.segments().bm25K1()).isEqualTo(0.9);
    assertThat(c.paths().chunksDir()).isEqualTo("target/quarry/chunks");
  }

  @Test
  void oldStageNamesAreReadWithADeprecationWarning() {
    QuarryConfig old = ConfigLoader.load(List.of(yaml("old.yaml",
        "evaluation:\n  stages: [bm25, dense-exact, dense-ivfpq, rescore, hybrid]\n")), List.of());
    QuarryConfig now = ConfigLoader.load(List.of(yaml("new.yaml",
        "evaluation:\n  stages: [bm25, exact, ivfpq, rescore, hybrid]\n")), List.of());
    assertThat(old.evaluation().stages()).containsExactly("bm25", "exact", "ivfpq", "rescore", "hybrid");
    assertThat(ConfigLoader.hash(old)).isEqualTo(ConfigLoader.hash(now));
    assertThat(io.quarry.core.search.Stages.warnedSoFar())
        .contains("evaluation.stages: dense-exact", "evaluation.stages: dense-ivfpq");
    assertThat(ConfigLoader.load(List.of(), List.of("evaluation.stages=[dense-ivfpq]")).evaluation().stages())
        .containsExactly("ivfpq");
    assertThatThrownBy(() -> ConfigLoader.load(List.of(), List.of("evaluation.stages=[dense]")))
        .hasMessageContaining("unknown stage 'dense'");
  }

  @Test
  void precedenceIsDefaultsThenFilesInOrderThenOverrides() {
    QuarryConfig c = ConfigLoader.load(
        List.of(
            yaml("base.yaml", "chunking: {maxTokens: 200, overlapTokens: 20}\npaths: {work: s3a://b/q}\n"),
            yaml("env.yaml", "chunking: {maxTokens: 300}\n")),
        List.of("chunking.overlapTokens=50", "spark.conf.spark.sql.shuffle.partitions=3"));
    assertThat(c.chunking().maxTokens()).isEqualTo(300); // env file over base file
    assertThat(c.chunking().overlapTokens()).isEqualTo(50); // --set over files
    assertThat(c.chunking().method()).isEqualTo("token"); // untouched default survives the merge
    assertThat(c.paths().embeddingsDir()).isEqualTo("s3a://b/q/embeddings");
    assertThat(c.spark().conf()).containsEntry("spark.sql.shuffle.partitions", "3")
        .containsEntry("spark.ui.enabled", "false");
  }

  @Test
  void everyViolationIsReportedAtOnce() {
    assertThatThrownBy(() -> ConfigLoader.load(
            List.of(yaml("bad.yaml", "chunking: {maxTokens: 0}\nsegments: {shards: -1, colour: red}\n")),
            List.of("quantizer.metric=cosine", "quantizer.ivfSolver=gpu", "nope.key=1")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> {
          List<String> v = ((ConfigException) e).violations();
          assertThat(v).hasSize(7);
          // unknown keys name the section's known keys (the list grows with the sections, so only its start)
          assertThat(v).anyMatch(s -> s.startsWith("segments.colour: unknown key (known: shards, sharding, "));
          assertThat(v).anyMatch(s -> s.startsWith("nope: unknown key (known: schemaVersion, paths, input, "));
          assertThat(v).contains(
              "chunking.maxTokens: must be > 0, got 0",
              "chunking.overlapTokens: must be >= 0 and < maxTokens (0), got 32",
              "segments.shards: must be > 0, got -1",
              "quantizer.metric: must be one of " + QuantizerConfig.METRICS + ", got 'cosine'",
              "quantizer.ivfSolver: must be one of " + QuantizerConfig.IVF_SOLVERS + ", got 'gpu'");
        });
  }

  @Test
  void wrongTypeNamesTheField() {
    assertThatThrownBy(() -> ConfigLoader.load(List.of(yaml("t.yaml", "quantizer: {maxIter: many}")), List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("quantizer.maxIter");
  }

  @Test
  void invalidYamlNamesTheFile() {
    assertThatThrownBy(() -> ConfigLoader.load(List.of(yaml("conf/broken.yaml", "a: [1, 2")), List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("conf/broken.yaml");
  }

  @Test
  void crossFieldRuleChunkMustFitTheModel() {
    assertThatThrownBy(() -> ConfigLoader.load(List.of(),
            List.of("chunking.maxTokens=600", "embedding.maxSeqLength=512")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("chunking.maxTokens: must be <= embedding.maxSeqLength (512), got 600");
  }

  @Test
  void hashIsStableAndChangesWithTheConfig() {
    QuarryConfig a = ConfigLoader.load(List.of(), List.of());
    QuarryConfig b = ConfigLoader.load(List.of(), List.of());
    QuarryConfig c = ConfigLoader.load(List.of(), List.of("quantizer.seed=7"));
    assertThat(ConfigLoader.hash(a)).isEqualTo(ConfigLoader.hash(b)).hasSize(64);
    assertThat(ConfigLoader.hash(c)).isNotEqualTo(ConfigLoader.hash(a));
  }

  @Test
  void everyWrongTypeIsReportedWithTheValueErrors() {
    assertThatThrownBy(() -> ConfigLoader.load(List.of(yaml("t.yaml",
            "quantizer: {maxIter: many, tol: small}\nsegments: {shards: lots, bm25B: 7}\nchunking: {maxTokens: 0}\n")),
            List.of("evaluation.k=ten")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> {
          List<String> v = ((ConfigException) e).violations();
          assertThat(v).anyMatch(s -> s.startsWith("quantizer.maxIter: wrong type (string 'many')"));
          assertThat(v).anyMatch(s -> s.startsWith("quantizer.tol: wrong type (string 'small')"));
          assertThat(v).anyMatch(s -> s.startsWith("segments.shards: wrong type (string 'lots')"));
          assertThat(v).anyMatch(s -> s.startsWith("evaluation.k: wrong type (string 'ten')"));
          // the value errors are not hidden by the type errors
          assertThat(v).contains("segments.bm25B: must be in [0, 1], got 7.0", "chunking.maxTokens: must be > 0, got 0");
          assertThat(v).hasSize(7);
        });
  }

  @Test
  void everyKeyGivenTwiceIsReportedWithItsPathAndTheOtherProblemsStill() {
    String dup = """
        quantizer:
          spec: IVF16,PQ8x8
          spec: IVF32,PQ8x8
        chunking: {maxTokens: 0}
        quantizer:
          seed: 3
        evaluation:
          metrics: [ndcg@10]
          gate: {ndcg@10: 0.01, ndcg@10: 0.02}
        segments: {shards: lots}
        """;
    assertThatThrownBy(() -> ConfigLoader.load(
            List.of(yaml("dup.yaml", dup), yaml("ok.yaml", "segments: {rescore: true}\n")), List.of()))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> {
          List<String> v = ((ConfigException) e).violations();
          assertThat(v).contains(
              "quantizer.spec: duplicate key at dup.yaml:3 (first at line 2)",
              "quantizer: duplicate key at dup.yaml:5 (first at line 1)",
              "evaluation.gate.ndcg@10: duplicate key at dup.yaml:9 (first at line 9)",
              "chunking.maxTokens: must be > 0, got 0");
          assertThat(v).anyMatch(s -> s.startsWith("segments.shards: wrong type (string 'lots')"));
        });
    assertThatThrownBy(() -> ConfigLoader.load(List.of(yaml("dup2.yaml", "chunking: {maxTokens: 100, maxTokens: 200}")),
            List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("chunking.maxTokens: duplicate key at dup2.yaml:1 (first at line 1)");
  }

  @Test
  void theIndexSpecIsCheckedAgainstTheModelDimension() {
    for (String spec : List.of("PQ7x8", "OPQ7,IVF16,PQ8x8", "IVF16,PQ5")) {
      assertThatThrownBy(() -> ConfigLoader.load(List.of(), List.of("quantizer.spec=" + spec,
              "embedding.model=bge-small-en-v1.5-q")))
          .as(spec).isInstanceOf(ConfigException.class)
          .hasMessageContaining("quantizer.spec: index spec")
          .hasMessageContaining("not divisible")
          .hasMessageContaining("embedding.model bge-small-en-v1.5-q gives d = 384");
    }
    assertThat(ConfigLoader.load(List.of(), List.of("quantizer.spec=OPQ96,IVF16,PQ96x4")).quantizer().spec())
        .isEqualTo("OPQ96,IVF16,PQ96x4");
    // a custom model's dimension is unknown until it is loaded: not checked here
    assertThat(ConfigLoader.load(List.of(), List.of("quantizer.spec=PQ7x8", "embedding.model=custom",
        "embedding.modelPath=/m")).quantizer().spec()).isEqualTo("PQ7x8");
  }

  @Test
  void extraModelsAreOffByDefaultAndLeaveTheResolvedConfigUnchanged() {
    QuarryConfig off = ConfigLoader.load(List.of(), List.of());
    assertThat(off.embedding().extraModels()).isEmpty();
    // not written when empty: the config hash (hence version ids and manifests) of existing configs is unchanged
    assertThat(ConfigLoader.toJson(off)).doesNotContain("extraModels");
    assertThat(ConfigLoader.hash(ConfigLoader.load(List.of(), List.of("embedding.extraModels=[]"))))
        .isEqualTo(ConfigLoader.hash(off));
    QuarryConfig on = ConfigLoader.load(List.of(yaml("a.yaml", "embedding:\n  extraModels: [e5-small-v2-q]\n")),
        List.of());
    assertThat(on.embedding().extraModels()).containsExactly("e5-small-v2-q");
    assertThat(ConfigLoader.toJson(on)).contains("extraModels");
    assertThat(EmbeddingConfig.extraEmbeddingsDir("/w/embeddings/", "e5-small-v2-q"))
        .isEqualTo("/w/embeddings@e5-small-v2-q");
    assertThatThrownBy(() -> ConfigLoader.load(List.of(), List.of(
        "embedding.extraModels=[bge-small-en-v1.5-q, nope, e5-small-v2-q, e5-small-v2-q]")))
        .hasMessageContaining("'bge-small-en-v1.5-q' is embedding.model already")
        .hasMessageContaining("got 'nope'").hasMessageContaining("'e5-small-v2-q' is listed twice");
  }
}
