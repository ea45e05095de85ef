package io.quarry.jobs.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.config.EmbeddingConfig;
import io.quarry.embed.ModelFiles;
import io.quarry.jobs.QuarryCli;
import io.quarry.jobs.SparkTest;
import io.quarry.jobs.SparkTestSupport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import io.quarry.report.HeadlessChromium;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quarry pipeline --matrix} on a small slice of data-samples/ (the judged documents of 15 test queries plus
 * distractors, ~100 documents), 2 models × 2 quantizer specs: the bundled bge-small-en-v1.5-q and a custom model
 * directory with its files (the same tokenizer: one chunk pass for both; two embedding passes, each shared by its two
 * specs), the model axis from the config file's {@code matrix} section and the spec axis from {@code --matrix}; every
 * variant trained, built and evaluated, and compared in one {@code quarry report} leaderboard with build times, whose
 * HTML loads in headless Chromium; nothing is published. The matrix runs once, for every test of the class.
 */
@SparkTest
class PipelineMatrixTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path SAMPLES = ROOT.resolve("data-samples/scifact");
  private static final List<String> IDS = List.of("model-bge-small-en-v1.5-q_spec-IVF4-PQ16x4",
      "model-bge-small-en-v1.5-q_spec-IVF8-PQ32x4", "model-custom_spec-IVF4-PQ16x4", "model-custom_spec-IVF8-PQ32x4");

  @TempDir static Path tmp;

  private static Path work;
  private static String printed;
  private static int exit;

  /** The CLI opens its Spark session from the config (and stops it): not the tests' shared one. */
  @BeforeAll
  static void runTheMatrix() throws Exception {
    SparkTestSupport.stopShared();
    work = tmp.resolve("work");
    List<String> base = slice(work);
    Path custom = Files.createDirectories(tmp.resolve("matrix-test-bge-copy"));
    ModelFiles bge = ModelFiles.load(new EmbeddingConfig("bge-small-en-v1.5-q", "", 32, 512, 1));
    Files.write(custom.resolve("model.onnx"), bge.onnx());
    Files.write(custom.resolve("tokenizer.json"), bge.tokenizerJson());
    Path exp = Files.writeString(tmp.resolve("experiment.yaml"), """
        embedding: {modelPath: %s}
        matrix:
          embedding.model: [bge-small-en-v1.5-q, custom]
        """.formatted(custom));
    List<String> args = new ArrayList<>(List.of("pipeline", "--config", ROOT.resolve("conf/quarry.yaml").toString(),
        "--config", exp.toString(), "--matrix",
        "quantizer.spec=IVF4,PQ16x4;IVF8,PQ32x4"));
    args.addAll(base);
    args.addAll(List.of("--set", "evaluation.sweepNprobe=[2,4]")); // bytes per vector: the leaderboard's first chart
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream oldOut = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      exit = QuarryCli.run(args.toArray(String[]::new));
    } finally {
      System.setOut(oldOut);
    }
    printed = out.toString(StandardCharsets.UTF_8);
    System.out.print(printed);
  }

  /** Corpus and qrels of the slice; returns the --config/--set arguments that point the quick start at them. */
  private static List<String> slice(Path work) throws Exception {
    List<String> qrelLines = Files.readAllLines(SAMPLES.resolve("qrels/test.tsv"));
    Set<String> queries = new LinkedHashSet<>();
    Set<String> docs = new LinkedHashSet<>();
    StringBuilder qrels = new StringBuilder(qrelLines.get(0)).append('\n');
    for (String l : qrelLines.subList(1, qrelLines.size())) {
      String[] f = l.split("\t");
      if (queries.size() < 15 || queries.contains(f[0])) {
        queries.add(f[0]);
        docs.add(f[1]);
        qrels.append(l).append('\n');
      }
    }
    List<String> corpus = new ArrayList<>();
    int distractors = 0;
    for (String line : Files.readAllLines(SAMPLES.resolve("corpus.jsonl"), StandardCharsets.UTF_8)) {
      if (docs.contains(JSON.readTree(line).get("_id").asText()) || distractors++ < 80) {
        corpus.add(line);
      }
    }
    Path in = tmp.resolve("in");
    Files.createDirectories(in);
    Files.write(in.resolve("corpus.jsonl"), corpus);
    Files.writeString(in.resolve("qrels.tsv"), qrels);
    List<String> args = new ArrayList<>();
    for (String s : List.of("paths.work=" + work, "input.corpus=" + in.resolve("corpus.jsonl"),
        "evaluation.queries=" + SAMPLES.resolve("queries.jsonl"), "evaluation.qrels=" + in.resolve("qrels.tsv"),
        "tuning.qrels=", "evaluation.sweepNprobe=[]", "evaluation.sweepCandidates=[]", "evaluation.nprobe=4",
        "evaluation.permutations=1000", "segments.shards=1", "spark.master=local[2]")) {
      args.addAll(List.of("--set", s));
    }
    return args;
  }

  @Test
  void invalidVariantsFailBeforeAnyWorkEveryProblemInOneList() throws Exception {
    Path badWork = tmp.resolve("bad-work");
    List<String> bad = new ArrayList<>(List.of("pipeline", "--config", ROOT.resolve("conf/quarry.yaml").toString(),
        "--matrix", "quantizer.spec=IVF4,PQ16x4;IVF4,PQ5x4", "--matrix", "segments.shards=1;0"));
    bad.addAll(slice(badWork));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream oldErr = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int badExit;
    try {
      badExit = QuarryCli.run(bad.toArray(String[]::new));
    } finally {
      System.setErr(oldErr);
    }
    assertThat(badExit).isEqualTo(QuarryCli.EXIT_USAGE);
    String msg = err.toString(StandardCharsets.UTF_8);
    assertThat(msg).contains("spec-IVF4-PQ5x4_shards-1: quantizer.spec").contains("spec-IVF4-PQ16x4_shards-0: "
        + "segments.shards");
    assertThat(badWork).doesNotExist();
  }

  @Test
  void twoModelsTimesTwoSpecsShareChunksAndEmbeddingsAndAreComparedInOneReport() throws Exception {
    assertThat(exit).isZero();
    // one chunk pass (the two models' tokenizers are identical), one embedding pass per model
    List<String> stages = java.util.regex.Pattern.compile("\"stage\" *: *\"([a-z-]+)\"").matcher(printed)
        .results().map(r -> r.group(1)).toList();
    assertThat(stages).filteredOn("evaluate"::equals).hasSize(4);
    assertThat(stages.stream().filter("chunk"::equals)).hasSize(1);
    assertThat(stages.stream().filter("embed"::equals)).hasSize(2);
    Path matrix = work.resolve("matrix");
    try (Stream<Path> s = Files.list(matrix.resolve("shared"))) {
      assertThat(s.map(p -> p.getFileName().toString().replaceAll("-.*", ""))).containsExactlyInAnyOrder("chunks",
          "embeddings", "embeddings");
    }

    // four evaluations, each of its own index version, each with its build time
    for (String id : IDS) {
      Path eval = matrix.resolve(id).resolve("eval").resolve(id);
      JsonNode m = JSON.readTree(eval.resolve("metrics.json").toFile());
      assertThat(m.toString()).contains(id.endsWith("PQ16x4") ? "IVF4,PQ16x4" : "IVF8,PQ32x4");
      assertThat(matrix.resolve(id).resolve("index")).isDirectoryContaining(p -> p.getFileName().toString()
          .startsWith("v-"));
      JsonNode build = JSON.readTree(eval.resolve("build.json").toFile());
      assertThat(build.get("seconds").asDouble()).isPositive()
          .isGreaterThanOrEqualTo(build.get("trainSeconds").asDouble() + build.get("buildSeconds").asDouble());
      // the second spec of a model reuses its chunks and embeddings
      assertThat(build.get("embeddingsShared").asBoolean()).isEqualTo(id.endsWith("PQ32x4"));
      assertThat(build.get("chunksShared").asBoolean()).isEqualTo(!id.equals(IDS.get(0)));
    }

    // one report, baseline the first variant, a row of each, build seconds a column
    JsonNode report = JSON.readTree(matrix.resolve("report/leaderboard.json").toFile());
    for (JsonNode run : report.get("runs")) {
      assertThat(run.get("buildSeconds").asDouble()).isPositive();
    }
    String md = Files.readString(matrix.resolve("report/leaderboard.md"));
    assertThat(md).contains("| build s |");
    for (String id : IDS) {
      assertThat(md.lines().filter(l -> l.startsWith("|") && l.contains(id))).isNotEmpty();
    }
    assertThat(matrix.resolve("report/leaderboard.html")).content().contains("build s");

    // an experiment publishes nothing: no CURRENT anywhere, the main index untouched
    try (Stream<Path> s = Files.walk(work)) {
      assertThat(s.filter(p -> p.getFileName().toString().equals("CURRENT"))).isEmpty();
    }
    assertThat(work.resolve("index")).doesNotExist();
  }

  @Test
  @Tag("browser") // not in the fast tier (bin/test --fast)
  void theLeaderboardLoadsInHeadlessChromiumWithChartsAndNoErrors() throws Exception {
    assertThat(exit).isZero();
    String html = Files.readString(work.resolve("matrix/report/leaderboard.html"));
    HeadlessChromium.assertLoadsWithCharts(Files.createDirectories(tmp.resolve("chromium")), html,
        List.of("chart-quality-bytes", "chart-quality-latency"), 30);
  }
}
