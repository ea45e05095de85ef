package io.quarry.jobs.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quarry pipeline --matrix} on a small slice of data-samples/ (the judged documents of 15 test queries plus
 * distractors, ~100 documents): two quantizer specs of one model share one chunk pass and one embedding pass, are
 * trained, built and evaluated each, and compared in one {@code quarry report} leaderboard; nothing is published.
 */
@SparkTest
class PipelineMatrixTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path SAMPLES = ROOT.resolve("data-samples/scifact");

  @TempDir Path tmp;

  /** The CLI opens its Spark session from the config (and stops it): not the tests' shared one. */
  @BeforeAll
  static void noSharedSpark() {
    SparkTestSupport.stopShared();
  }

  /** Corpus and qrels of the slice; returns the --set overrides that point the quick-start config at them. */
  private List<String> slice(Path work) throws Exception {
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
    List<String> args = new ArrayList<>(List.of("--config", ROOT.resolve("conf/quarry.yaml").toString()));
    for (String s : List.of("paths.work=" + work, "input.corpus=" + in.resolve("corpus.jsonl"),
        "evaluation.queries=" + SAMPLES.resolve("queries.jsonl"), "evaluation.qrels=" + in.resolve("qrels.tsv"),
        "tuning.qrels=", "evaluation.sweepNprobe=[]", "evaluation.sweepCandidates=[]", "evaluation.nprobe=4",
        "evaluation.permutations=1000", "segments.shards=1", "spark.master=local[2]")) {
      args.addAll(List.of("--set", s));
    }
    return args;
  }

  @Test
  void twoSpecsShareChunksAndEmbeddingsAndAreComparedInOneReport() throws Exception {
    Path work = tmp.resolve("work");
    List<String> base = slice(work);

    // invalid values fail before any work, every problem of every variant in one list
    List<String> bad = new ArrayList<>(List.of("pipeline", "--matrix", "quantizer.spec=IVF4,PQ16x4;IVF4,PQ5x4",
        "--matrix", "segments.shards=1;0"));
    bad.addAll(base);
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
    assertThat(work).doesNotExist();

    List<String> args = new ArrayList<>(List.of("pipeline", "--matrix", "quantizer.spec=IVF4,PQ16x4;IVF8,PQ32x4"));
    args.addAll(base);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream oldOut = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    int exit;
    try {
      exit = QuarryCli.run(args.toArray(String[]::new));
    } finally {
      System.setOut(oldOut);
    }
    String printed = out.toString(StandardCharsets.UTF_8);
    System.out.print(printed);
    assertThat(exit).isZero();

    // one chunk pass, one embedding pass (the stages' summaries), shared by both variants
    List<String> stages = java.util.regex.Pattern.compile("\"stage\" *: *\"([a-z-]+)\"").matcher(printed)
        .results().map(r -> r.group(1)).toList();
    assertThat(stages).filteredOn("evaluate"::equals).hasSize(2);
    assertThat(stages.stream().filter("chunk"::equals)).hasSize(1);
    assertThat(stages.stream().filter("embed"::equals)).hasSize(1);
    Path matrix = work.resolve("matrix");
    try (Stream<Path> s = Files.list(matrix.resolve("shared"))) {
      assertThat(s.map(p -> p.getFileName().toString().replaceAll("-.*", ""))).containsExactlyInAnyOrder("chunks",
          "embeddings");
    }

    // two evaluations, each of its own index version
    List<String> ids = List.of("spec-IVF4-PQ16x4", "spec-IVF8-PQ32x4");
    for (String id : ids) {
      JsonNode m = JSON.readTree(matrix.resolve(id).resolve("eval").resolve(id).resolve("metrics.json").toFile());
      assertThat(m.toString()).contains(id.equals(ids.get(0)) ? "IVF4,PQ16x4" : "IVF8,PQ32x4");
      assertThat(matrix.resolve(id).resolve("index")).isDirectoryContaining(p -> p.getFileName().toString()
          .startsWith("v-"));
    }

    // one report, baseline the first variant, a row of each
    JsonNode report = JSON.readTree(matrix.resolve("report/leaderboard.json").toFile());
    assertThat(report.toString()).contains(ids.get(0)).contains(ids.get(1));
    String md = Files.readString(matrix.resolve("report/leaderboard.md"));
    for (String id : ids) {
      assertThat(md.lines().filter(l -> l.startsWith("|") && l.contains(id))).isNotEmpty();
    }
    assertThat(matrix.resolve("report/leaderboard.html")).exists();

    // an experiment publishes nothing: no CURRENT anywhere, the main index untouched
    try (Stream<Path> s = Files.walk(work)) {
      assertThat(s.filter(p -> p.getFileName().toString().equals("CURRENT"))).isEmpty();
    }
    assertThat(work.resolve("index")).doesNotExist();
  }
}
