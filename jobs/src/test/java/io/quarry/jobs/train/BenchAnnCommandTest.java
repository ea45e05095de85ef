package io.quarry.jobs.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.quant.format.VecsFormat;
import io.quarry.core.quant.kernel.VectorMath;
import io.quarry.core.quant.train.QuantizerTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** bench-ann on a trained quantizer file over a small TEXMEX data set written here (no Spark). */
class BenchAnnCommandTest {
  @TempDir Path tmp;

  @Test
  void measuresAGivenQuantizerFileAgainstTheGroundTruth() throws Exception {
    int n = 2000;
    int d = 16;
    int nq = 50;
    Random rnd = new Random(3);
    float[] base = new float[n * d];
    for (int i = 0; i < base.length; i++) {
      base[i] = (float) rnd.nextGaussian() + (i / d % 10) * 0.5f;
    }
    float[] q = new float[nq * d];
    int[] gt = new int[nq];
    for (int i = 0; i < nq; i++) {
      int src = rnd.nextInt(n);
      for (int t = 0; t < d; t++) {
        q[i * d + t] = base[src * d + t] + 0.05f * (float) rnd.nextGaussian();
      }
      double best = Double.MAX_VALUE;
      for (int j = 0; j < n; j++) {
        double dist = VectorMath.l2sq(q, i * d, base, j * d, d);
        if (dist < best) {
          best = dist;
          gt[i] = j;
        }
      }
    }
    VecsFormat.writeFvecs(tmp.resolve("toy_base.fvecs"), base, n, d);
    VecsFormat.writeFvecs(tmp.resolve("toy_query.fvecs"), q, nq, d);
    VecsFormat.writeIvecs(tmp.resolve("toy_groundtruth.ivecs"), gt, nq, 1);
    QuantizerModel model = QuantizerTrainer.train(base, n, d, IndexSpec.parse("IVF8,PQ8x6"), DistanceMetric.L2,
        QuantizerTrainer.Params.defaults(5));
    Path qbin = tmp.resolve("quantizer.bin");
    Files.write(qbin, QuantizerFormat.toBytes(model));
    Path out = tmp.resolve("table.md");

    int rc = new CommandLine(new BenchAnnCommand()).execute("--data", tmp.toString(), "--quantizer", qbin.toString(),
        "--nprobe", "1,8", "--out", out.toString());

    assertThat(rc).isZero();
    List<String> rows = Files.readAllLines(out).stream().filter(l -> l.startsWith("| IVF8,PQ8x6 |")).toList();
    assertThat(rows).hasSize(2);
    String[] exhaustive = rows.get(1).split("\\|");
    assertThat(exhaustive[2].strip()).isEqualTo("file");
    assertThat(exhaustive[5].strip()).isEqualTo("8");
    double r1 = Double.parseDouble(exhaustive[6].strip());
    double r100 = Double.parseDouble(exhaustive[8].strip());
    // queries are near-duplicates of base vectors: with every list probed, PQ finds most of them first
    assertThat(r1).isGreaterThan(0.5);
    assertThat(r100).isEqualTo(1.0);
    List<BenchAnnCommand.Row> direct = BenchAnnCommand.evaluate(model, VecsFormat.readFvecs(
        tmp.resolve("toy_base.fvecs")), VecsFormat.readFvecs(tmp.resolve("toy_query.fvecs")),
        VecsFormat.readIvecs(tmp.resolve("toy_groundtruth.ivecs")), List.of(8), "file", 0);
    assertThat(direct.get(0).r1()).isCloseTo(r1, org.assertj.core.api.Assertions.within(0.005));
  }
}
