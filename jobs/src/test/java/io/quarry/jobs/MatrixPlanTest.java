package io.quarry.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.config.ConfigException;
import io.quarry.core.config.EmbeddingConfig;
import io.quarry.embed.ModelFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The matrix's plan, Spark-free: axes from the config file's {@code matrix} section and {@code --matrix}, every
 * variant validated before any work, and chunks shared by the models whose tokenizers are identical.
 */
class MatrixPlanTest {
  private static final Path SAMPLES = Path.of("../data-samples/scifact").toAbsolutePath().normalize();

  @TempDir Path tmp;

  /** A custom model directory: {@code tokenizer.json} with the given bytes, a (fake) model of its own. */
  private Path model(String name, byte[] tokenizer) throws Exception {
    Path d = Files.createDirectories(tmp.resolve(name));
    Files.write(d.resolve("tokenizer.json"), tokenizer);
    Files.writeString(d.resolve("model.onnx"), "onnx of " + name);
    return d;
  }

  private QuarryCli.ConfigOptions options(String yaml, String... sets) throws Exception {
    QuarryCli.ConfigOptions o = new QuarryCli.ConfigOptions();
    o.configFiles.add(Files.writeString(tmp.resolve("exp.yaml"), yaml).toString());
    o.overrides.addAll(List.of("paths.work=" + tmp.resolve("work"), "input.corpus=" + SAMPLES.resolve("corpus.jsonl"),
        "evaluation.queries=" + SAMPLES.resolve("queries.jsonl"), "evaluation.qrels="
            + SAMPLES.resolve("qrels/test.tsv"), "tuning.qrels="));
    o.overrides.addAll(List.of(sets));
    return o;
  }

  @Test
  void modelsWithIdenticalTokenizersShareTheirChunks() throws Exception {
    byte[] bge = ModelFiles.loadTokenizerJson(new EmbeddingConfig("bge-small-en-v1.5-q", "", 32, 512, 1));
    Path a = model("a", bge);
    String text = new String(bge, java.nio.charset.StandardCharsets.UTF_8);
    // the truncation and padding the chunker overrides do not count (all-minilm-l6-v2's file adds a truncation)
    String truncated = text.replaceFirst("\"truncation\": *null", "\"truncation\": {\"direction\": \"Right\", "
        + "\"max_length\": 128, \"strategy\": \"LongestFirst\", \"stride\": 0}");
    assertThat(truncated).isNotEqualTo(text);
    Path b = model("b", truncated.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    // a normalizer that keeps case: another tokenizer
    String cased = text.replaceFirst("\"lowercase\": *true", "\"lowercase\": false");
    assertThat(cased).isNotEqualTo(text);
    Path c = model("c", cased.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    QuarryCli.ConfigOptions opts = options("""
        embedding: {model: custom, modelPath: %s}
        matrix:
          embedding.modelPath: [%s, %s, %s]
          quantizer.spec: ["IVF4,PQ16x4"]
        """.formatted(a, a, b, c));
    List<MatrixAxes.Axis> axes = MatrixAxes.axes(opts, List.of("quantizer.spec=IVF4,PQ16x4;IVF8,PQ32x4"));
    assertThat(axes).extracting(MatrixAxes.Axis::key).containsExactly("embedding.modelPath", "quantizer.spec");
    List<MatrixAxes.Variant> variants = MatrixAxes.variants(axes);
    assertThat(variants).hasSize(6);
    List<MatrixPipeline.Planned> plan = MatrixPipeline.plan(opts, variants,
        MatrixPipeline.Layout.of(opts.load()), new org.apache.hadoop.conf.Configuration());
    // a and b: one chunk pass, two embedding passes; c: its own chunks; the specs share their model's embeddings
    assertThat(plan.stream().map(MatrixPipeline.Planned::chunksDir).distinct()).hasSize(2);
    assertThat(plan.get(0).chunksDir()).isEqualTo(plan.get(2).chunksDir()).isNotEqualTo(plan.get(4).chunksDir());
    assertThat(plan.stream().map(MatrixPipeline.Planned::embeddingsDir).distinct()).hasSize(3);
    assertThat(plan.get(0).embeddingsDir()).isEqualTo(plan.get(1).embeddingsDir())
        .isNotEqualTo(plan.get(2).embeddingsDir());
    assertThat(MatrixPipeline.tokenizerSha(new EmbeddingConfig("custom", a.toString(), 32, 512, 1),
        new org.apache.hadoop.conf.Configuration())).isEqualTo(MatrixPipeline.chunkingDigest(bge));
    assertThat(MatrixAxes.configured(opts)).isTrue();
  }

  @Test
  void theConfigsMatrixIsValidatedWithTheOtherProblemsBeforeSparkStarts() throws Exception {
    // the JVM may hold the shared context of earlier Spark test classes: the commands must neither start, join
    // nor stop one
    scala.Option<org.apache.spark.SparkContext> sparkBefore = org.apache.spark.SparkContext$.MODULE$.getActive();
    Path yaml = Files.writeString(tmp.resolve("bad.yaml"), """
        matrix:
          quantizer.spec: ["IVF4,PQ16x4", "IVF4,PQ5x4"]
          segments.shards: [1, 1]
          paths.eval: [x]
        """);
    String[] common = {"--config", yaml.toString(), "--set", "paths.work=" + tmp.resolve("work"), "--set",
        "input.corpus=" + SAMPLES.resolve("corpus.jsonl"), "--set", "evaluation.queries="
        + SAMPLES.resolve("queries.jsonl"), "--set", "evaluation.qrels=" + SAMPLES.resolve("qrels/test.tsv"),
        "--set", "tuning.qrels=", "--set", "spark.master=local[1]"};
    for (String cmd : List.of("pipeline", "validate-config")) {
      ConfigProblemsTest.Run r = ConfigProblemsTest.run(ConfigProblemsTest.concat(new String[] {cmd}, common));
      assertThat(r.rc()).as(r.err()).isEqualTo(QuarryCli.EXIT_USAGE);
      assertThat(r.err()).contains("matrix.segments.shards: value 1 given twice",
          "matrix.paths.eval: not an axis");
    }
    // the shape fixed: every variant's value problems, each with its variant's id, still before any work
    Files.writeString(yaml, """
        matrix:
          quantizer.spec: ["IVF4,PQ16x4", "IVF4,PQ5x4"]
          segments.shards: [1, 0]
        """);
    for (String cmd : List.of("pipeline", "validate-config")) {
      ConfigProblemsTest.Run r = ConfigProblemsTest.run(ConfigProblemsTest.concat(new String[] {cmd}, common));
      assertThat(r.rc()).as(r.err()).isEqualTo(QuarryCli.EXIT_USAGE);
      assertThat(r.err()).contains("spec-IVF4-PQ5x4_shards-1: quantizer.spec", "spec-IVF4-PQ16x4_shards-0: "
          + "segments.shards");
    }
    assertThat(tmp.resolve("work")).doesNotExist();
    assertThat(org.apache.spark.SparkContext$.MODULE$.getActive()).isEqualTo(sparkBefore);
    assertThatThrownBy(() -> MatrixAxes.axes(options("matrix: {segments.shards: [1, 0]}\n"),
        List.of("segments.shards=1;2", "quantizer.spec=")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("--matrix quantizer.spec: empty value");
    // --matrix replaces the file's axis of its key
    assertThat(MatrixAxes.axes(options("matrix: {segments.shards: [1, 0]}\n"), List.of("segments.shards=1;2")))
        .containsExactly(new MatrixAxes.Axis("segments.shards", List.of("1", "2")));
  }
}
