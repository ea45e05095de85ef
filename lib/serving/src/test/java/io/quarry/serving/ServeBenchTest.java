package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@link ServeBench} on a small real index: the CPU-bound table (issue 13's serving target) and its error count. */
class ServeBenchTest {
  @TempDir Path root;

  @Test
  void hybridReportsLatencyCpuPerQueryTheBoundAndNoErrors() throws Exception {
    TestIndexes.write(root, "v1", 60, 2, "float32");
    TestIndexes.publish(root, "v1");
    ServeBench b = new ServeBench();
    new CommandLine(b).parseArgs("--index", root.toString(), "--queries",
        TestIndexes.SAMPLES.resolve("queries.jsonl").toString(), "--limit", "12", "--warmup", "2", "--clients", "2",
        "--cores", "2", "--configs", "hybrid");
    String report = b.report();
    assertThat(report).contains("CPU bound on 2 cores");
    // | hybrid nprobe=16 | p50 / p99 | cpu; process | bound | qps | pct % | errors1; errorsN |
    Matcher m = Pattern.compile("\\| hybrid nprobe=16 \\| [0-9.]+ / [0-9.]+ \\| ([0-9.]+); [0-9.NaN]+ \\| ([0-9.]+) \\| "
        + "([0-9.]+) \\| [0-9]+ % \\| (\\d+); (\\d+) \\|").matcher(report);
    assertThat(m.find()).as(report).isTrue();
    double cpuMs = Double.parseDouble(m.group(1));
    double bound = Double.parseDouble(m.group(2));
    assertThat(cpuMs).isPositive();
    assertThat(bound).isCloseTo(2 / (cpuMs / 1e3), org.assertj.core.data.Offset.offset(0.06 * bound + 0.1));
    assertThat(Double.parseDouble(m.group(3))).isPositive();
    assertThat(m.group(4)).isEqualTo("0");
    assertThat(m.group(5)).isEqualTo("0");
    // the latency table has only the selected configuration
    assertThat(report).doesNotContain("\n| bm25 |").doesNotContain("dense nprobe=8");
  }

  @Test
  void cpuDeltaCountsNewThreadsFromZeroAndNeverNegative() {
    assertThat(ServeBench.cpuDelta(Map.of(1L, 100L, 2L, 50L), Map.of(1L, 160L, 2L, 40L, 3L, 7L))).isEqualTo(67);
  }

  @Test
  void unknownConfigIsRefused() {
    ServeBench b = new ServeBench();
    new CommandLine(b).parseArgs("--index", root.toString(), "--queries", "q.jsonl", "--configs", "hybrid,nope");
    assertThatThrownBy(b::report).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nope");
  }
}
