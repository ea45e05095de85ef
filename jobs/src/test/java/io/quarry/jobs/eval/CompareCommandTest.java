package io.quarry.jobs.eval;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.eval.EvalReport;
import io.quarry.core.platform.Platform;
import io.quarry.jobs.QuarryCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code quarry compare} end to end through the CLI: exit codes of the gate and the written comparison. */
class CompareCommandTest {
  @TempDir Path tmp;

  static EvalReport report(double ndcgOfHalf) {
    Map<String, Map<String, Double>> pq = new LinkedHashMap<>();
    double sum = 0;
    for (int i = 0; i < 30; i++) {
      double v = i % 2 == 0 ? ndcgOfHalf : 0.6;
      pq.put("q" + i, Map.of("nDCG@10", v, "Recall@100", 0.9));
      sum += v;
    }
    return new EvalReport(EvalReport.SCHEMA_VERSION, "r", "h", "m", "v", "IVF4,PQ8x8",
        new EvalReport.Dataset("beir", "q", "x", "r", "y", 30, 30), Map.of(),
        List.of(new EvalReport.StageResult("rescore", "", "runs/rescore.trec", 30, 0,
            Map.of("nDCG@10", sum / 30, "Recall@100", 0.9), null, null, null, pq)), "rescore", List.of(), null,
        List.of());
  }

  @Test
  void exitCodeThreeWhenAGatedMetricRegresses() throws Exception {
    Path base = tmp.resolve("base.json");
    Path cur = tmp.resolve("cur.json");
    Files.writeString(base, report(0.6).toJson());
    Files.writeString(cur, report(0.5).toJson()); // nDCG@10 drops by 0.05
    Path out = tmp.resolve("cmp");
    assertThat(QuarryCli.run("compare", "--baseline", base.toString(), "--current", cur.toString(),
        "--out", out.toString())).isEqualTo(CompareCommand.EXIT_GATE); // default gate: nDCG@10 0.01
    assertThat(Files.readString(out.resolve("comparison.md"))).contains("FAILED").contains("nDCG@10");
    assertThat(Files.readString(out.resolve("comparison.json"))).contains("\"passed\" : false");
    assertThat(QuarryCli.run("compare", "--baseline", base.toString(), "--current", cur.toString(),
        "--gate", "nDCG@10=0.1")).isZero();
    assertThat(Files.readString(tmp.resolve("comparison.json"))).contains("\"passed\" : true"); // beside current
    assertThat(QuarryCli.run("compare", "--baseline", cur.toString(), "--current", base.toString())).isZero();
    assertThat(QuarryCli.run("compare", "--baseline", tmp.resolve("missing.json").toString(), "--current",
        cur.toString())).isEqualTo(1);
    // a baseline given as an evaluation run id resolves to <paths.eval>/<id>/metrics.json
    Path evalDir = tmp.resolve("eval");
    Files.createDirectories(evalDir.resolve("run-1"));
    Files.copy(base, evalDir.resolve("run-1/metrics.json"));
    assertThat(QuarryCli.run("compare", "--set", "paths.eval=" + evalDir, "--baseline", "run-1", "--current",
        cur.toString())).isEqualTo(CompareCommand.EXIT_GATE);
  }

  @Test
  void warnsWithoutChangingTheExitCodeWhenTheBaselineRanOnAnotherKindOfProcessor() throws Exception {
    Platform vnni = new Platform("amd64", List.of("avx2", "avx512f", "avx512_vnni"), "1.28.0");
    Platform avx2 = new Platform("amd64", List.of("avx2"), "1.28.0");
    Path base = tmp.resolve("base.json");
    Path cur = tmp.resolve("cur.json");
    Files.writeString(base, report(0.6).withPlatforms(List.of(vnni), vnni).toJson());
    Files.writeString(cur, report(0.6).withPlatforms(List.of(avx2), avx2).toJson());
    Path out = tmp.resolve("cmp");
    assertThat(QuarryCli.run("compare", "--baseline", base.toString(), "--current", cur.toString(),
        "--out", out.toString())).isZero();
    assertThat(Files.readString(out.resolve("comparison.md"))).contains("**Warning:** chunks embedded on a "
        + "different platform: baseline amd64 [avx2 avx512_vnni avx512f], onnxruntime 1.28.0, current amd64 [avx2]");
    assertThat(Files.readString(out.resolve("comparison.json"))).contains("\"warnings\" : [ \"chunks embedded")
        .contains("queries embedded on a different platform");
    // same kind: no warning
    Files.writeString(cur, report(0.6).withPlatforms(List.of(vnni), vnni).toJson());
    assertThat(QuarryCli.run("compare", "--baseline", base.toString(), "--current", cur.toString(),
        "--out", out.toString())).isZero();
    assertThat(Files.readString(out.resolve("comparison.md"))).doesNotContain("Warning");
    assertThat(Files.readString(out.resolve("comparison.json"))).contains("\"warnings\" : [ ]");
  }
}
