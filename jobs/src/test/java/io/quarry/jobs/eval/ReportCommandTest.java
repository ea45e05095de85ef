package io.quarry.jobs.eval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.eval.EvalReport;
import io.quarry.jobs.QuarryCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quarry report} end to end through the CLI over four evaluations written as the evaluate job writes
 * {@code metrics.json} ({@link EvalReport#toJson}): the files, their content, and significance that agrees with
 * {@code quarry compare} on every pair.
 */
class ReportCommandTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String[] METRICS = {"nDCG@10", "Recall@100", "MRR@10"};

  @TempDir Path tmp;

  /**
   * An evaluation of 60 queries with stages bm25, ivfpq and hybrid (final); the dense stages' per-query values
   * are a shared base plus {@code shift} plus seeded noise of amplitude {@code noise}.
   */
  static EvalReport evaluation(String runId, double shift, double noise, long seed, double bytes, double p50) {
    Random rnd = new Random(seed);
    List<EvalReport.StageResult> stages = new ArrayList<>();
    for (String st : List.of("bm25", "ivfpq", "hybrid")) {
      Map<String, Map<String, Double>> pq = new LinkedHashMap<>();
      double[] sums = new double[METRICS.length];
      for (int i = 0; i < 60; i++) {
        Map<String, Double> v = new LinkedHashMap<>();
        for (int m = 0; m < METRICS.length; m++) {
          double base = 0.3 + 0.4 * ((i * 7 + m * 3) % 11) / 10.0 + (st.equals("hybrid") ? 0.05 : 0);
          double x = st.equals("bm25") ? base : base + shift + noise * (rnd.nextDouble() - 0.5);
          x = Math.max(0, Math.min(1, Math.round(x * 1e4) / 1e4));
          v.put(METRICS[m], x);
          sums[m] += x;
        }
        pq.put("q" + i, v);
      }
      Map<String, Double> means = new LinkedHashMap<>();
      for (int m = 0; m < METRICS.length; m++) {
        means.put(METRICS[m], sums[m] / 60);
      }
      stages.add(new EvalReport.StageResult(st, st, "runs/" + st + ".trec", 60, 0, means, null,
          st.equals("bm25") ? 0.8 : p50, null, pq));
    }
    List<EvalReport.SweepPoint> sweeps = List.of(
        new EvalReport.SweepPoint("ivfpq", "nprobe", 16, Map.of(), null, p50, bytes),
        new EvalReport.SweepPoint("hybrid", "candidates", 100, Map.of(), null, p50, bytes + 1536));
    return new EvalReport(EvalReport.SCHEMA_VERSION, runId, "cfg-" + runId, "bge-small-en-v1.5-q", "v-" + runId,
        "IVF64,PQ" + (int) bytes + "x8", new EvalReport.Dataset("beir", "queries.jsonl", "a", "qrels/test.tsv", "b",
            60, 90), Map.of("k", 100), stages, "hybrid", sweeps, null, List.of());
  }

  Path write(Path dir, EvalReport r) throws Exception {
    Files.createDirectories(dir);
    Path p = dir.resolve("metrics.json");
    Files.writeString(p, r.toJson());
    return p;
  }

  @Test
  void leaderboardOverFourEvaluationsAgreesWithCompareOnEveryPair() throws Exception {
    Path eval = tmp.resolve("work/eval");
    Path base = write(eval.resolve("pq16"), evaluation("pq16", 0, 0.1, 1, 20, 1.0));
    Path strong = write(eval.resolve("pq48"), evaluation("pq48", 0.08, 0.1, 2, 52, 2.5));
    Path weak = write(eval.resolve("pq8"), evaluation("pq8", -0.015, 0.1, 3, 12, 0.7));
    Path elsewhere = write(tmp.resolve("other/e5"), evaluation("e5", 0.01, 0.2, 4, 20, 1.2)); // outside paths.eval
    Files.createDirectories(eval.resolve(".pq4.tmp-1")); // a partial output the glob must skip
    Path out = tmp.resolve("board");
    // a glob under paths.eval, a directory path; the baseline by run id
    assertThat(QuarryCli.run("report", "--set", "paths.eval=" + eval, "--baseline", "pq16", "--out", out.toString(),
        "pq*", elsewhere.getParent().toString())).isZero();

    String md = Files.readString(out.resolve("leaderboard.md"));
    assertThat(md).startsWith("# Leaderboard: 4 evaluations, baseline `pq16`, ranked by nDCG@10")
        .contains("## Final stage of each run").contains("## Stage `bm25`").contains("## Stage `ivfpq`")
        .contains("| pq16 (baseline) | hybrid |").contains("Holm 1979");
    // MAP is in no evaluation: not a column
    assertThat(md).doesNotContain("| MAP |").contains("| run | stage | nDCG@10 | Recall@100 | MRR@10 | bytes/vector |"
        + " p50 ms | wins / losses / ties (nDCG@10) |");
    String html = Files.readString(out.resolve("leaderboard.html"));
    assertThat(html).contains("<figure class=\"chart\" id=\"chart-quality-bytes\"><svg")
        .contains("<figure class=\"chart\" id=\"chart-quality-latency\"><svg").contains("pq16 (baseline)");

    JsonNode board = JSON.readTree(out.resolve("leaderboard.json").toFile());
    assertThat(board.path("baseline").asText()).isEqualTo("pq16");
    assertThat(board.path("runs")).hasSize(4);
    assertThat(board.path("permutations").asInt()).isEqualTo(10_000); // evaluation.permutations, as compare uses
    Map<String, Path> others = Map.of("pq48", strong, "pq8", weak, "e5", elsewhere.getParent().resolve(
        "metrics.json"));
    int marked = 0;
    for (JsonNode b : board.path("boards")) {
      String stage = b.path("name").asText();
      if (stage.equals("bm25")) {
        // identical per-query values everywhere: ties, p = 1, nothing marked
        for (JsonNode row : b.path("rows")) {
          if (!row.path("baseline").asBoolean()) {
            assertThat(row.path("versus").path("nDCG@10").path("ties").asInt()).isEqualTo(60);
            assertThat(row.path("versus").path("nDCG@10").path("pHolm").asDouble()).isEqualTo(1.0);
          }
        }
      }
      assertThat(b.path("comparisons").asInt()).isEqualTo(3); // N − 1
      for (Map.Entry<String, Path> o : others.entrySet()) {
        // compare on the same pair and stage, same config (permutations, seed)
        Path cmp = tmp.resolve("cmp-" + o.getKey() + "-" + stage);
        List<String> args = new ArrayList<>(List.of("compare", "--set", "paths.eval=" + eval, "--baseline", "pq16",
            "--current", o.getValue().toString(), "--out", cmp.toString(), "--gate", "nDCG@10=1"));
        if (!stage.equals("final")) {
          args.addAll(List.of("--stage", stage));
        }
        assertThat(QuarryCli.run(args.toArray(String[]::new))).isZero();
        JsonNode c = JSON.readTree(cmp.resolve("comparison.json").toFile());
        JsonNode row = null;
        for (JsonNode r : b.path("rows")) {
          if (r.path("run").asText().equals(o.getKey())) {
            row = r;
          }
        }
        assertThat(row).as(o.getKey() + " on " + stage).isNotNull();
        List<Double> holm = new ArrayList<>();
        for (JsonNode md1 : c.path("metrics")) {
          JsonNode v = row.path("versus").path(md1.path("metric").asText());
          assertThat(v.path("p").asDouble()).as("p of %s vs pq16, %s, %s", o.getKey(), stage, md1.path("metric"))
              .isEqualTo(md1.path("pRandomization").asDouble());
          assertThat(v.path("wins").asInt()).isEqualTo(md1.path("wins").asInt());
          assertThat(v.path("losses").asInt()).isEqualTo(md1.path("losses").asInt());
          assertThat(v.path("delta").asDouble()).isEqualTo(md1.path("delta").asDouble());
          // Holm never lowers a p-value and at most multiplies it by the family size
          assertThat(v.path("pHolm").asDouble()).isBetween(v.path("p").asDouble(),
              Math.min(1, 3 * v.path("p").asDouble()));
          holm.add(v.path("pHolm").asDouble());
          if (v.path("significant").asBoolean()) {
            marked++;
            assertThat(v.path("pHolm").asDouble()).isLessThanOrEqualTo(0.05);
          }
        }
        assertThat(holm).hasSize(METRICS.length);
      }
    }
    // pq48 (+0.08 on every dense query, noise ±0.05) is better on every dense board and metric: 3 boards × 3 metrics
    assertThat(marked).isGreaterThanOrEqualTo(9);
    assertThat(md).containsPattern("\\| pq48 \\| hybrid \\| [0-9.]+ ▲ \\|");
    // the correction matters: e5's final-stage nDCG@10 gain has p < 0.05 alone, but not after Holm over 3 runs
    JsonNode e5 = null;
    for (JsonNode r : board.path("boards").get(0).path("rows")) {
      if (r.path("run").asText().equals("e5")) {
        e5 = r.path("versus").path("nDCG@10");
      }
    }
    assertThat(e5.path("p").asDouble()).isLessThan(0.05);
    assertThat(e5.path("pHolm").asDouble()).isGreaterThan(0.05);
    assertThat(e5.path("significant").asBoolean()).isFalse();
    assertThat(md).containsPattern("\\| e5 \\| hybrid \\| [0-9.]+ \\|");
  }

  @Test
  void exitCodes() throws Exception {
    Path eval = tmp.resolve("eval");
    write(eval.resolve("a"), evaluation("a", 0, 0.1, 1, 20, 1.0));
    write(eval.resolve("b"), evaluation("b", 0.02, 0.1, 2, 20, 1.0));
    String set = "paths.eval=" + eval;
    // the default output directory <paths.eval>/leaderboard, baseline = the first run; a later glob skips it
    assertThat(QuarryCli.run("report", "--set", set, "a", "b")).isZero();
    assertThat(eval.resolve("leaderboard/leaderboard.html")).isRegularFile();
    assertThat(QuarryCli.run("report", "--set", set, "*")).isZero();
    // the baseline named by path, the runs by glob: each evaluation once
    assertThat(QuarryCli.run("report", "--set", set, "--baseline", eval.resolve("b").toString(), "*")).isZero();
    JsonNode board = JSON.readTree(eval.resolve("leaderboard/leaderboard.json").toFile());
    assertThat(board.path("runs")).hasSize(2);
    assertThat(board.path("baseline").asText()).isEqualTo("b");
    assertThat(board.path("boards").get(0).path("metrics").toString()).isEqualTo(
        "[\"nDCG@10\",\"Recall@100\",\"MRR@10\"]");
    // --metrics replaces the default columns; --out elsewhere
    Path out = tmp.resolve("only-mrr");
    assertThat(QuarryCli.run("report", "--set", set, "--metrics", "MRR@10,MAP", "--out", out.toString(), "a", "b"))
        .isZero();
    assertThat(JSON.readTree(out.resolve("leaderboard.json").toFile()).path("boards").get(0).path("metrics")
        .toString()).isEqualTo("[\"MRR@10\"]");
    assertThat(QuarryCli.run("report", "--set", set, "a")).isEqualTo(QuarryCli.EXIT_USAGE); // one evaluation
    assertThat(QuarryCli.run("report", "--set", set, "zz*", "a")).isEqualTo(QuarryCli.EXIT_USAGE);
    assertThat(QuarryCli.run("report", "--set", set, "--metric", "P@5", "a", "b")).isEqualTo(QuarryCli.EXIT_USAGE);
    assertThat(QuarryCli.run("report", "--set", set, "a", "missing")).isEqualTo(1); // unreadable evaluation
  }
}
