package io.quarry.bench;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.Neighbor;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.ivf.ArrayInvertedLists;
import io.quarry.core.quant.ivf.IvfPqSearcher;
import io.quarry.core.quant.train.QuantizerTrainer;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmarks of the Spark-free quantizer hot paths on seeded synthetic 384-d unit vectors (the shape of
 * bge-small embeddings): encoding one vector ({@link QuantizerModel#encodeVector}: rotation, IVF assignment, PQ
 * codes), encoding a batch of 256 ({@link QuantizerModel#encodeBatch}) and one ADC search ({@link IvfPqSearcher#search}) over 50,000 encoded vectors, for a grid of specs and
 * nprobe. Run: {@code java -cp "lib/bench/target/classes:$(cat lib/bench/target/cp.txt)" org.openjdk.jmh.Main
 * QuantizerBenchmark} (see docs/benchmarks.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class QuantizerBenchmark {
  static final int D = 384;
  static final int N = 50_000;

  @Param({"IVF256,PQ48x8", "OPQ48,IVF256,PQ48x8", "IVF256,PQ96x8", "IVF256,PQ48x4"})
  public String spec;

  @Param({"16"})
  public int nprobe;

  QuantizerModel model;
  ArrayInvertedLists lists;
  IvfPqSearcher searcher;
  float[][] queries;
  float[] batch;
  int next;

  static float[] unitVectors(int n, int d, long seed) {
    Random rnd = new Random(seed);
    int clusters = 500;
    float[] centres = new float[clusters * d];
    for (int i = 0; i < centres.length; i++) {
      centres[i] = (float) rnd.nextGaussian();
    }
    float[] x = new float[n * d];
    for (int i = 0; i < n; i++) {
      int c = rnd.nextInt(clusters);
      double norm = 0;
      for (int t = 0; t < d; t++) {
        float v = centres[c * d + t] + 0.7f * (float) rnd.nextGaussian();
        x[i * d + t] = v;
        norm += v * v;
      }
      float inv = (float) (1 / Math.sqrt(norm));
      for (int t = 0; t < d; t++) {
        x[i * d + t] *= inv;
      }
    }
    return x;
  }

  @Setup(Level.Trial)
  public void setup() {
    float[] x = unitVectors(N, D, 1);
    // train on a 20k subset with few iterations: the benchmark measures encoding and search, not training
    int nt = 20_000;
    model = QuantizerTrainer.train(java.util.Arrays.copyOf(x, nt * D), nt, D, IndexSpec.parse(spec), DistanceMetric.IP,
        new QuantizerTrainer.Params(1, 8, 1e-3, 256, 2));
    lists = ArrayInvertedLists.build(model, x, N);
    searcher = new IvfPqSearcher(model);
    float[] q = unitVectors(256, D, 2);
    batch = q;
    queries = new float[256][];
    for (int i = 0; i < 256; i++) {
      queries[i] = java.util.Arrays.copyOfRange(q, i * D, (i + 1) * D);
    }
  }

  @Benchmark
  public QuantizerModel.Encoded encode() {
    return model.encodeVector(queries[next++ & 255]);
  }

  /**
   * Encoding 256 vectors at once ({@link QuantizerModel#encodeBatch}, the build stage's path); divide by 256 to
   * compare with {@link #encode}.
   */
  @Benchmark
  public QuantizerModel.EncodedBatch encodeBatch256() {
    return model.encodeBatch(batch, 256);
  }

  @Benchmark
  public List<Neighbor> searchTop100() {
    return searcher.search(queries[next++ & 255], 100, nprobe, lists);
  }
}
