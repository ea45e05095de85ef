package io.quarry.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quarry bench-build} runs the real train and build stages on its synthetic data, publishes a complete index
 * version holding every generated vector, and measures recall against exact neighbours: with every list probed the
 * ADC search finds the true nearest neighbour in its top 10 for nearly every held-back query (a wrong ground truth or
 * a chunk-id mix-up would give ≈ 0).
 */
@SparkTest
class BenchBuildCommandTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @TempDir Path tmp;

  /** The CLI opens its Spark session from the config (and stops it): not the tests' shared one. */
  @BeforeAll
  static void noSharedSpark() {
    SparkTestSupport.stopShared();
  }

  @Test
  void buildsEveryGeneratedVectorAndReportsRecallPerRow() throws Exception {
    Path work = tmp.resolve("bench");
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream out = System.out;
    int rc;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      rc = QuarryCli.run("bench-build", "--config", ROOT.resolve("conf/quarry.yaml").toString(), "--set",
          "spark.master=local[2]", "--set", "segments.shards=3", "--work", work.toString(), "--n", "3000,6000",
          "--specs", "OPQ4,IVF8,PQ4x8", "--d", "16", "--clusters", "30", "--queries", "100", "--nprobe", "8",
          "--rows-per-partition", "1000", "--keep");
    } finally {
      System.setOut(out);
    }
    String printed = captured.toString(StandardCharsets.UTF_8);
    assertThat(rc).as(printed).isZero();
    List<String[]> rows = printed.lines().filter(l -> l.startsWith("| 3000 |") || l.startsWith("| 6000 |"))
        .map(l -> Arrays.stream(l.split("\\|")).map(String::strip).skip(1).toArray(String[]::new)).toList();
    assertThat(rows).hasSize(4); // each row printed when measured, then in the final table
    for (String[] row : rows) {
      assertThat(row[1]).isEqualTo("OPQ4,IVF8,PQ4x8");
      assertThat(row[2]).isEqualTo("3");
      assertThat(Double.parseDouble(row[12])).as("1-recall@10 at nprobe = nlist").isGreaterThanOrEqualTo(0.9);
      assertThat(Double.parseDouble(row[11])).isLessThanOrEqualTo(Double.parseDouble(row[12]));
    }
    assertThat(rows.get(0)[8]).isEqualTo("1.00×");

    for (String dir : List.of("n3000-0", "n6000-1")) {
      Path index = work.resolve(dir).resolve("index");
      String current = Files.readString(index.resolve(IndexManifest.CURRENT)).strip();
      IndexVersion v = IndexVersion.open(index.resolve(current), true);
      long n = Long.parseLong(dir.substring(1, dir.indexOf('-')));
      assertThat(v.manifest().chunks()).isEqualTo(n);
      assertThat(v.manifest().model().modelId()).isEqualTo(BenchBuildCommand.MODEL_ID);
      assertThat(v.manifest().indexSpec()).isEqualTo("OPQ4,IVF8,PQ4x8");
    }
  }

  @Test
  void withoutKeepEachRowsDirectoryIsDeleted() throws Exception {
    Path work = tmp.resolve("bench");
    assertThat(QuarryCli.run("bench-build", "--config", ROOT.resolve("conf/quarry.yaml").toString(), "--set",
        "spark.master=local[2]", "--work", work.toString(), "--n", "2000", "--specs", "IVF4,PQ4x8", "--d", "16",
        "--clusters", "10", "--queries", "20", "--nprobe", "4")).isZero();
    assertThat(work.resolve("n2000-0")).doesNotExist();
  }
}
