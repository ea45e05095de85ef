package io.quarry.jobs.train;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.train.EncodingStats;
import io.quarry.core.quant.train.QuantizerTrainer;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import scala.Tuple2;

/**
 * {@code quarry bench-train}: scale benchmark of quantizer training and encoding on seeded synthetic clustered unit
 * vectors generated inside the executors (vector {@code i} depends only on the seed and {@code i}; the driver never
 * holds them). Reports the wall time of each step (generate, sample, OPQ, IVF, PQ, metrics, encode), the peak heap
 * of the driver JVM (which in {@code local[*]} mode also runs the executors), the IVF and encoding MSE, and the JVM's
 * CPU seconds of the OPQ, IVF, PQ and encode steps (in local mode the work itself, which other processes on a shared
 * machine do not inflate) as a Markdown row per (N, spec), and which BLAS MLlib loaded.
 */
@Command(name = "bench-train", mixinStandardHelpOptions = true,
    description = "Quantizer training/encoding scale benchmark on synthetic clustered vectors.")
public final class BenchTrainCommand implements Callable<Integer> {

  @Option(names = "--n", split = ",", description = "Vector counts (default: ${DEFAULT-VALUE}).")
  List<Long> ns = List.of(100_000L);

  @Option(names = "--d", description = "Dimension (default: ${DEFAULT-VALUE}).") int d = 384;

  @Option(names = "--specs", split = ";", description = "Index specs, ';'-separated (default: ${DEFAULT-VALUE}).")
  List<String> specs = List.of("OPQ48,IVF4096,PQ48x8");

  @Option(names = "--clusters", description = "Gaussian clusters in the data (default: ${DEFAULT-VALUE}).")
  int clusters = 1000;

  @Option(names = "--partitions") int partitions = 8;

  @Option(names = "--master") String master = "local[2]";

  @Option(names = "--seed") long seed = 42;

  @Option(names = "--max-iter") int maxIter = 10;

  @Option(names = "--tol") double tol = 1e-4;

  @Option(names = "--max-points-per-centroid") int maxPointsPerCentroid = 256;

  @Option(names = "--opq-iterations") int opqIterations = 4;

  @Option(names = "--ivf-solver", description = "MLlib KMeans solver of the IVF fit: auto, row or block "
      + "(default: MLlib's).")
  String ivfSolver;

  @Option(names = "--ivf-init", description = "IVF k-means initialisation: k-means|| (the train stage's) or random "
      + "(FAISS's) (default: ${DEFAULT-VALUE}).")
  String ivfInit = "k-means||";

  @Option(names = "--ivf-init-steps", description = "k-means|| rounds (default: ${DEFAULT-VALUE}).")
  int ivfInitSteps = 2;

  @Option(names = "--ivf-init-sample", description = "Initialise the IVF k-means on this many sample vectors, then "
      + "run Lloyd on the whole sample from there (0: initialise on the whole sample; default: ${DEFAULT-VALUE}).")
  long ivfInitSample = 0;

  @Option(names = "--ivf-training", split = ",", description = "IVF training modes, each a row: flat, two-level, "
      + "auto (quantizer.ivfTraining; default: ${DEFAULT-VALUE}).")
  List<String> ivfTrainings = List.of("auto");

  @Option(names = "--ivf-refine", description = "Flat MLlib Lloyd passes after two-level training (default: "
      + "${DEFAULT-VALUE}).")
  int ivfRefine = 0;

  @Option(names = "--ivf-refine-steps", description = "Lloyd steps with FAISS's empty-cluster split run by Quarry "
      + "after MLlib's IVF k-means (default: ${DEFAULT-VALUE}).")
  int ivfRefineSteps = 0;

  @Option(names = "--local-pass-mb", description = "PQ/OPQ Lloyd passes over a training set of at most this many "
      + "MiB (vectors × d × 4) run on the driver after one collect, larger ones as one Spark job per pass; 0: always "
      + "distributed (SparkQuantizerTrainer.withLocalPassBytes; default: ${DEFAULT-VALUE}).")
  long localPassMb = SparkQuantizerTrainer.DEFAULT_LOCAL_PASS_BYTES >> 20;

  @Option(names = "--faiss", paramLabel = "DIR", description = "Also compare with FAISS: write the generated base "
      + "vectors, --queries query vectors, Quarry's top-10 at --nprobe and its step times to DIR, then run "
      + "lib/bench/scripts/faiss_train_bench.py with --faiss-python on the same files (one (N, spec) per DIR; with "
      + "several --ivf-training modes, DIR/<mode> each).")
  java.nio.file.Path faissDir;

  @Option(names = "--faiss-python", description = "Python with faiss-cpu and numpy (default: ${DEFAULT-VALUE}).")
  String faissPython = "/tmp/faissvenv/bin/python";

  @Option(names = "--faiss-threads", description = "FAISS OpenMP threads (default: ${DEFAULT-VALUE}).")
  int faissThreads = 2;

  @Option(names = "--queries", description = "Query vectors for --faiss recall (default: ${DEFAULT-VALUE}).")
  int queries = 1000;

  @Option(names = "--nprobe", description = "nprobe of the --faiss recall (default: ${DEFAULT-VALUE}).")
  int nprobe = 16;

  @Override
  public Integer call() {
    SparkSession spark = SparkSession.builder().master(master).appName("quarry-bench-train")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate();
    List<String> rows = new ArrayList<>();
    String blas = "";
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      blas = blasImplementations(jsc);
      System.out.println(blas);
      for (long n : ns) {
        for (String s : specs) {
          for (String mode : ivfTrainings) {
            rows.add(runOne(spark, jsc, n, IndexSpec.parse(s.strip()), mode.strip()));
            System.out.println(rows.get(rows.size() - 1));
          }
        }
      }
    } finally {
      spark.stop();
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "Synthetic clustered unit vectors: d=%d, %d clusters, seed %d, master %s, maxIter %d,"
        + " opqIterations %d, maxPointsPerCentroid %d, IVF init %s (%d steps, init sample %s), IVF solver %s, two-level"
        + " refine passes %d, PQ/OPQ passes on the driver up to %d MiB%n%n", d,
        clusters, seed, master, maxIter, opqIterations, maxPointsPerCentroid, ivfInit, ivfInitSteps,
        ivfInitSample == 0 ? "whole sample" : Long.toString(ivfInitSample), ivfSolver == null ? "MLlib default" : ivfSolver,
        ivfRefine, localPassMb);
    System.out.println(blas);
    System.out.println("| N | spec | IVF training | sample | PQ sample | generate s | sample s | OPQ s | IVF s | PQ s | metrics s | encode s | "
        + "total s | IVF MSE | MSE | peak heap MiB | CPU s: OPQ | IVF | PQ | encode |");
    System.out.println("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    rows.forEach(System.out::println);
    return 0;
  }

  private String runOne(SparkSession spark, JavaSparkContext jsc, long n, IndexSpec spec, String ivfTraining) {
    System.gc();
    resetPeaks();
    float[] centres = SyntheticVectors.centres(seed, clusters, d);
    Broadcast<float[]> bc = jsc.broadcast(centres);
    long t0 = System.nanoTime();
    JavaPairRDD<String, float[]> data = generate(jsc, bc, n);
    data.count();
    double gen = (System.nanoTime() - t0) / 1e9;
    QuantizerTrainer.Params params = new QuantizerTrainer.Params(seed, maxIter, tol, maxPointsPerCentroid,
        opqIterations);
    SparkQuantizerTrainer.Result r = new SparkQuantizerTrainer(spark, spec, DistanceMetric.IP, params)
        .withIvfOptions(new SparkQuantizerTrainer.IvfOptions(ivfInit, ivfInitSteps, ivfSolver,
            ivfInitSample)).withIvfTraining(ivfTraining, ivfRefine).withLocalPassBytes(localPassMb << 20)
        .withIvfRefineSteps(ivfRefineSteps).train(data, d, n);
    Map<String, Double> tm = r.model().info().metrics();
    System.out.printf(Locale.ROOT, "N %d %s: empty clusters split (FAISS's rule): IVF %.0f (after MLlib's k-means), "
        + "OPQ %.0f, PQ %.0f (codewords over all passes and sub-quantizers)%n", n, spec,
        tm.getOrDefault("ivf.splits", 0.0), tm.getOrDefault("opq.splits", 0.0), tm.getOrDefault("pq.splits", 0.0));
    long t1 = System.nanoTime();
    double c1 = SparkQuantizerTrainer.processCpuSeconds();
    Broadcast<QuantizerModel> bm = jsc.broadcast(r.model());
    EncodingStats stats = OrderedBatches.encodingStats(data.values(), bm);
    double enc = (System.nanoTime() - t1) / 1e9;
    double encCpu = SparkQuantizerTrainer.processCpuSeconds() - c1;
    if (faissDir != null) {
      FaissComparison.run(this, ivfTrainings.size() > 1 ? faissDir.resolve(ivfTraining) : faissDir, ivfTraining, data,
          r, bc.value(), n, spec, gen, enc, stats.mse());
    }
    data.unpersist(true);
    bm.destroy();
    bc.destroy();
    Map<String, Double> st = r.stepSeconds();
    double total = gen + st.values().stream().mapToDouble(Double::doubleValue).sum() + enc;
    String mode = ivfTraining + (io.quarry.core.config.QuantizerConfig.twoLevel(ivfTraining, spec.effectiveNlist())
        ? (ivfTraining.equals("two-level") ? "" : " (two-level)") + (ivfRefine > 0 ? " + " + ivfRefine + " Lloyd" : "")
        : ivfTraining.equals("flat") ? "" : " (flat)");
    return String.format(Locale.ROOT, "| %d | %s | %s | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.4f | %.4f | %d | %.1f | %.1f | %.1f | %.1f |",
        n, spec, mode, r.sampleSize(), r.pqSampleSize(), gen, st.getOrDefault("sample", 0.0), st.getOrDefault("opq", 0.0),
        st.getOrDefault("ivf", 0.0), st.getOrDefault("pq", 0.0), st.getOrDefault("metrics", 0.0), enc, total,
        r.model().info().metrics().getOrDefault("ivf.mse", Double.NaN), stats.mse(), peakHeapMiB(),
        r.stepCpuSeconds().getOrDefault("opq", 0.0), r.stepCpuSeconds().getOrDefault("ivf", 0.0),
        r.stepCpuSeconds().getOrDefault("pq", 0.0), encCpu);
  }

  /** The {@code n} vectors ({@link #vector}) in {@code partitions} partitions, ids in order; cached. */
  private JavaPairRDD<String, float[]> generate(JavaSparkContext jsc, Broadcast<float[]> bc, long n) {
    int dd = d;
    int k = clusters;
    long sd = seed;
    List<Integer> parts = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      parts.add(p);
    }
    int np = partitions;
    return jsc.parallelize(parts, np).flatMapToPair(p -> {
      long from = n * p / np;
      long to = n * (p + 1) / np;
      List<Tuple2<String, float[]>> out = new ArrayList<>((int) (to - from));
      for (long i = from; i < to; i++) {
        out.add(new Tuple2<>(Long.toString(i), SyntheticVectors.vector(bc.value(), k, dd, sd, i)));
      }
      return out.iterator();
    }).persist(StorageLevel.MEMORY_AND_DISK());
  }

  /**
   * Which BLAS Spark MLlib uses ({@code org.apache.spark.ml.linalg.BLAS$.MODULE$.nativeBLAS()}: {@code JNIBLAS} when
   * dev.ludovic.netlib loaded a native library such as OpenBLAS, else its Java fallback, e.g. {@code VectorBLAS}), on
   * the driver and in one task (an executor JVM on a cluster; the same JVM in local mode).
   */
  static String blasImplementations(JavaSparkContext jsc) {
    String driver = org.apache.spark.ml.linalg.BLAS$.MODULE$.nativeBLAS().getClass().getName();
    String executor = jsc.parallelize(List.of(0), 1)
        .map(x -> (String) org.apache.spark.ml.linalg.BLAS$.MODULE$.nativeBLAS().getClass().getName()).first();
    return "MLlib BLAS: driver " + driver + ", executor " + executor;
  }

  /** Resets the peak usage of every heap pool (before a measured step). */
  public static void resetPeaks() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
  }

  /** The sum of the heap pools' peak usage since {@link #resetPeaks}, MiB. */
  public static long peakHeapMiB() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum >> 20;
  }
}
