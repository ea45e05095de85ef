package io.quarry.jobs.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.jobs.QuarryCli;
import io.quarry.jobs.SparkTest;
import io.quarry.jobs.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline ({@code quarry pipeline}: chunk, embed, train, build, evaluate) on the data-samples SciFact slice
 * (400 documents, 100 test queries), through the same CLI entry point that spark-submit and bin/quarry use, with the
 * quick-start config and only the output directory changed.
 */
@SparkTest
class PipelineEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @TempDir Path tmp;

  /** The CLI opens its Spark session from the config (and stops it): not the tests' shared one. */
  @BeforeAll
  static void noSharedSpark() {
    SparkTestSupport.stopShared();
  }

  @Test
  void pipelineOnDataSamplesRanksEveryQueryFarAboveRandom() throws Exception {
    Path work = tmp.resolve("work");
    int exit = QuarryCli.run("pipeline",
        "--config", ROOT.resolve("conf/quarry.yaml").toString(),
        "--set", "paths.work=" + work,
        "--set", "input.corpus=" + ROOT.resolve("data-samples/scifact/corpus.jsonl"),
        "--set", "evaluation.queries=" + ROOT.resolve("data-samples/scifact/queries.jsonl"),
        "--set", "evaluation.qrels=" + ROOT.resolve("data-samples/scifact/qrels/test.tsv"),
        "--set", "tuning.qrels=" + ROOT.resolve("data-samples/scifact/qrels/train.tsv"),
        "--set", "spark.master=local[2]");
    assertThat(exit).isZero();

    // every test query of the qrels got a full ranking in the final run
    Set<String> judgedQueries = Files.readAllLines(ROOT.resolve("data-samples/scifact/qrels/test.tsv")).stream()
        .skip(1).map(l -> l.split("\t")[0]).collect(Collectors.toCollection(TreeSet::new));
    assertThat(judgedQueries).hasSize(100);
    Path eval = work.resolve("eval/latest");
    Map<String, Integer> docsPerQuery = new HashMap<>();
    for (String line : Files.readAllLines(eval.resolve("run.trec"))) {
      String[] f = line.split("\\s+");
      assertThat(f).hasSize(6);
      docsPerQuery.merge(f[0], 1, Integer::sum);
    }
    assertThat(docsPerQuery.keySet()).containsAll(judgedQueries);
    assertThat(docsPerQuery.values()).allMatch(n -> n == 100);

    // quality far above a random ranking: a random order of 400 documents, ~1.2 relevant per query, gives
    // nDCG@10 ≈ 0.02 and Recall@100 ≈ 0.25
    JsonNode metrics = JSON.readTree(eval.resolve("metrics.json").toFile());
    Map<String, JsonNode> stages = new HashMap<>();
    metrics.get("stages").forEach(s -> stages.put(s.get("name").asText(), s));
    String finalStage = metrics.get("finalStage").asText();
    for (String stage : List.of("ivfpq", finalStage)) {
      JsonNode m = stages.get(stage).get("metrics");
      assertThat(m.get("nDCG@10").asDouble()).as(stage + " nDCG@10").isGreaterThan(0.6);
      assertThat(m.get("Recall@100").asDouble()).as(stage + " Recall@100").isGreaterThan(0.9);
      assertThat(m.get("MRR@10").asDouble()).as(stage + " MRR@10").isGreaterThan(0.6);
      assertThat(stages.get(stage).get("emptyRankings").asInt()).isZero();
    }
    assertThat(Files.readString(eval.resolve("report.md"))).contains("nDCG@10").contains("IVF16,PQ48x8");
    // the final stage is the hybrid one, tuned on the slice's train split (never the test qrels), and it is at least
    // as good as either signal alone (quick start on this CPU kind: +0.009 over exact; kinds move ~0.004)
    assertThat(finalStage).isEqualTo("hybrid");
    assertThat(stages.get("hybrid").get("description").asText()).contains("(tuned)");
    assertThat(metrics.get("tuning").get("tunedOn").asText()).contains("train.tsv");
    double hybrid = stages.get("hybrid").get("metrics").get("nDCG@10").asDouble();
    assertThat(hybrid).isGreaterThanOrEqualTo(stages.get("bm25").get("metrics").get("nDCG@10").asDouble())
        .isGreaterThanOrEqualTo(stages.get("exact").get("metrics").get("nDCG@10").asDouble());
    assertThat(metrics.get("gain").get("baseline").asText()).isIn("bm25", "exact", "rescore");
    // provenance through _model.json and the manifest: where the chunks and the queries were embedded (local mode:
    // this JVM for both), which compare checks against a baseline's
    assertThat(metrics.get("passagePlatforms")).hasSize(1);
    assertThat(metrics.get("passagePlatforms").get(0)).isEqualTo(metrics.get("queryPlatform"));
    assertThat(metrics.get("queryPlatform").get("onnxRuntime").asText()).isNotBlank();

    // the index version is published: manifest written, CURRENT points at it
    Path index = work.resolve("index");
    String current = Files.readString(index.resolve("CURRENT")).trim();
    assertThat(index.resolve(current).resolve("manifest.json")).exists();
    assertThat(metrics.get("indexVersion").asText()).isEqualTo(current);

    // a baseline that does not exist, or malformed qrels, fail before any work: exit 2, nothing touched
    long before = Files.walk(work).count();
    assertThat(QuarryCli.run("pipeline", "--baseline", "no-such-run",
        "--config", ROOT.resolve("conf/quarry.yaml").toString(), "--set", "paths.work=" + work,
        "--set", "evaluation.queries=" + ROOT.resolve("data-samples/scifact/queries.jsonl"),
        "--set", "evaluation.qrels=" + ROOT.resolve("data-samples/scifact/corpus.jsonl"),
        "--set", "spark.master=local[2]")).isEqualTo(QuarryCli.EXIT_USAGE);
    assertThat(Files.walk(work).count()).isEqualTo(before);
    assertThat(Files.readString(index.resolve("CURRENT")).trim()).isEqualTo(current);

    // the next day in one command: quarry index --incremental (3 documents edited, 2 deleted) re-tokenizes and
    // re-embeds only the edited documents and publishes an incremental version of the pipeline's
    List<String> day1 = new java.util.ArrayList<>(Files.readAllLines(ROOT.resolve("data-samples/scifact/corpus.jsonl"))
        .stream().filter(l -> !l.isBlank()).toList());
    for (int i = 0; i < 3; i++) {
      com.fasterxml.jackson.databind.node.ObjectNode d = (com.fasterxml.jackson.databind.node.ObjectNode)
          JSON.readTree(day1.get(i));
      d.put("text", d.get("text").asText() + " Revised: replicated in a second cohort.");
      day1.set(i, JSON.writeValueAsString(d));
    }
    day1.subList(3, 5).clear();
    Path corpus1 = tmp.resolve("day1.jsonl");
    Files.write(corpus1, day1);
    assertThat(QuarryCli.run("index", "--incremental",
        "--config", ROOT.resolve("conf/quarry.yaml").toString(), "--set", "paths.work=" + work,
        "--set", "input.corpus=" + corpus1, "--set", "segments.driftMaxMseRatio=0",
        "--set", "spark.master=local[2]")).isZero();
    String refreshed = Files.readString(index.resolve("CURRENT")).trim();
    assertThat(refreshed).isNotEqualTo(current);
    JsonNode refresh = JSON.readTree(index.resolve(refreshed).resolve("manifest.json").toFile()).get("refresh");
    assertThat(refresh.get("base").asText()).isEqualTo(current);
    assertThat(refresh.get("path").asText()).isEqualTo("incremental");
    assertThat(refresh.get("changedDocs").asInt()).isEqualTo(3);
    assertThat(refresh.get("deletedDocs").asInt()).isEqualTo(2);
    JsonNode chunked = JSON.readTree(work.resolve("chunks/_summary.json").toFile());
    assertThat(chunked.get("reuse").asText()).isEqualTo("used");
    assertThat(chunked.get("documentsChunked").asLong()).isEqualTo(3);
    assertThat(chunked.get("documentsReused").asLong()).isEqualTo(day1.size() - 3);
    JsonNode embedded = JSON.readTree(work.resolve("embeddings/_summary.json").toFile());
    assertThat(embedded.get("reuse").asText()).isEqualTo("used");
    assertThat(embedded.get("computed").asLong()).isPositive()
        .isEqualTo(embedded.get("chunks").asLong() - embedded.get("reused").asLong());
    assertThat(embedded.get("reused").asLong()).isGreaterThan(10 * embedded.get("computed").asLong());
  }
}
