package io.quarry.jobs.train;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.Neighbor;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.quant.format.VecsFormat;
import io.quarry.core.quant.ivf.ArrayInvertedLists;
import io.quarry.core.quant.ivf.IvfPqSearcher;
import io.quarry.core.quant.train.QuantizerTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import scala.Tuple2;

/**
 * {@code quarry bench-ann}: ANN accuracy of quantizer specs on a TEXMEX-format data set (e.g. siftsmall): trains on the
 * base vectors (with Spark MLlib, {@code --trainer spark}, or the in-memory trainer, {@code --trainer local}), encodes
 * the base into in-memory inverted lists, searches the queries with {@link IvfPqSearcher} at each nprobe and prints
 * 1-recall@1/@10/@100 against the exact ground truth (the fraction of queries whose true nearest neighbour is among
 * the first R results, as FAISS's benchmarks report it) as a Markdown table.
 */
@Command(name = "bench-ann", mixinStandardHelpOptions = true,
    description = "Quantizer accuracy benchmark on a TEXMEX (.fvecs/.ivecs) data set, e.g. siftsmall.")
public final class BenchAnnCommand implements Callable<Integer> {

  @Option(names = "--data", required = true, description = "Directory with <name>_base.fvecs, <name>_query.fvecs "
      + "and <name>_groundtruth.ivecs.")
  Path data;

  @Option(names = "--specs", split = ";", description = "Index specs, ';'-separated (default: ${DEFAULT-VALUE}).")
  List<String> specs = List.of("IVF64,PQ16x8", "IVF64,PQ32x8", "OPQ16,IVF64,PQ16x8");

  @Option(names = "--nprobe", split = ",", description = "nprobe values (default: ${DEFAULT-VALUE}).")
  List<Integer> nprobes = List.of(1, 4, 16, 64);

  @Option(names = "--trainer", description = "spark (MLlib, local master) or local (in-memory k-means++).")
  String trainer = "spark";

  @Option(names = "--master", description = "Spark master for --trainer spark (default: ${DEFAULT-VALUE}).")
  String master = "local[2]";

  @Option(names = "--metric", description = "l2 or ip (default: ${DEFAULT-VALUE}).")
  String metric = "l2";

  @Option(names = "--seed") long seed = 42;

  @Option(names = "--max-iter", description = "k-means iterations (FAISS niter 25).") int maxIter = 25;

  @Option(names = "--tol", description = "k-means tolerance (0 runs all iterations, as FAISS).") double tol = 0;

  @Option(names = "--max-points-per-centroid") int maxPointsPerCentroid = 256;

  @Option(names = "--opq-iterations") int opqIterations = 10;

  @Option(names = "--out", description = "Also write the table to this file.") Path out;

  @Option(names = "--quantizer", split = ",", paramLabel = "QUANTIZER_BIN", description = "Measure these trained "
      + "quantizer files (e.g. <work>/index/<version>/quantizer.bin of a pipeline run whose embeddings were exported "
      + "with export-ann) instead of training --specs; their spec and metric are read from the files.")
  List<Path> quantizers = List.of();

  /** One measured row. */
  public record Row(String spec, String trainer, double trainSeconds, double mse, int nprobe, double r1, double r10,
      double r100) {}

  @Override
  public Integer call() throws Exception {
    Path base = find("_base.fvecs");
    Path query = find("_query.fvecs");
    Path gt = find("_groundtruth.ivecs");
    VecsFormat.Vecs xb = VecsFormat.readFvecs(base);
    VecsFormat.Vecs xq = VecsFormat.readFvecs(query);
    VecsFormat.Vecs ig = VecsFormat.readIvecs(gt);
    DistanceMetric m = DistanceMetric.parse(metric);
    QuantizerTrainer.Params p = new QuantizerTrainer.Params(seed, maxIter, tol, maxPointsPerCentroid, opqIterations);
    List<Row> rows = new ArrayList<>();
    SparkSession spark = null;
    try {
      for (Path q : quantizers) {
        QuantizerModel model = QuantizerFormat.fromBytes(Files.readAllBytes(q), q.toString());
        if (model.dim() != xb.d()) {
          throw new IllegalArgumentException(q + ": quantizer dimension " + model.dim() + " != data dimension "
              + xb.d());
        }
        rows.addAll(evaluate(model, xb, xq, ig, nprobes, "file", 0));
      }
      if (!quantizers.isEmpty()) {
        specs = List.of();
      } else if (trainer.equals("spark")) {
        spark = SparkSession.builder().master(master).appName("quarry-bench-ann")
            .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate();
      } else if (!trainer.equals("local")) {
        throw new IllegalArgumentException("--trainer must be spark or local, got '" + trainer + "'");
      }
      for (String s : specs) {
        IndexSpec spec = IndexSpec.parse(s.strip());
        long t0 = System.nanoTime();
        QuantizerModel model = spark == null
            ? QuantizerTrainer.train(xb.data(), xb.n(), xb.d(), spec, m, p)
            : trainSpark(spark, xb, spec, m, p);
        double secs = (System.nanoTime() - t0) / 1e9;
        rows.addAll(evaluate(model, xb, xq, ig, nprobes, trainer, secs));
      }
    } finally {
      if (spark != null) {
        spark.stop();
      }
    }
    String table = table(rows, base.getParent().toString(), xb, xq);
    System.out.println(table);
    if (out != null) {
      Files.writeString(out, table);
    }
    return 0;
  }

  private Path find(String suffix) throws IOException {
    try (Stream<Path> s = Files.list(data)) {
      return s.filter(f -> f.getFileName().toString().endsWith(suffix)).sorted().findFirst()
          .orElseThrow(() -> new IOException(data + ": no *" + suffix + " file"));
    }
  }

  static QuantizerModel trainSpark(SparkSession spark, VecsFormat.Vecs xb, IndexSpec spec, DistanceMetric m,
      QuantizerTrainer.Params p) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<Tuple2<String, float[]>> list = new ArrayList<>(xb.n());
    for (int i = 0; i < xb.n(); i++) {
      list.add(new Tuple2<>(Integer.toString(i), xb.row(i)));
    }
    JavaPairRDD<String, float[]> rdd = JavaPairRDD.fromJavaRDD(jsc.parallelize(list, 4));
    return new SparkQuantizerTrainer(spark, spec, m, p).train(rdd, xb.d(), xb.n()).model();
  }

  /** Encodes the base, searches every query at each nprobe, returns 1-recall@1/10/100 rows. */
  public static List<Row> evaluate(QuantizerModel model, VecsFormat.Vecs xb, VecsFormat.Vecs xq,
      VecsFormat.Vecs gt, List<Integer> nprobes, String trainer, double trainSeconds) {
    ArrayInvertedLists lists = ArrayInvertedLists.build(model, xb.data(), xb.n());
    double mse = 0;
    for (int i = 0; i < xb.n(); i++) {
      mse += model.encodeVector(xb.row(i)).squaredError();
    }
    mse /= xb.n();
    IvfPqSearcher searcher = new IvfPqSearcher(model);
    List<Row> rows = new ArrayList<>();
    for (int nprobe : nprobes) {
      int[] hits = new int[3];
      int[] at = {1, 10, 100};
      for (int q = 0; q < xq.n(); q++) {
        List<Neighbor> res = searcher.search(xq.row(q), 100, nprobe, lists);
        int truth = gt.ints()[q * gt.d()];
        for (int r = 0; r < res.size(); r++) {
          if (res.get(r).id() == truth) {
            for (int a = 0; a < 3; a++) {
              if (r < at[a]) {
                hits[a]++;
              }
            }
            break;
          }
        }
      }
      rows.add(new Row(model.spec().toString(), trainer, trainSeconds, mse, nprobe, hits[0] / (double) xq.n(),
          hits[1] / (double) xq.n(), hits[2] / (double) xq.n()));
    }
    return rows;
  }

  static String table(List<Row> rows, String dataset, VecsFormat.Vecs xb, VecsFormat.Vecs xq) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "ANN accuracy on %s (base %d × %d, %d queries), 1-recall@R vs exact "
        + "ground truth%n%n", dataset, xb.n(), xb.d(), xq.n()));
    sb.append("| spec | trainer | train s | MSE | nprobe | R@1 | R@10 | R@100 |\n");
    sb.append("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %.5g | %d | %.2f | %.2f | %.2f |%n", r.spec(),
          r.trainer(), r.trainSeconds(), r.mse(), r.nprobe(), r.r1(), r.r10(), r.r100()));
    }
    return sb.toString();
  }

  /** For tests: parses {@code args} and runs. */
  static int run(String... args) {
    return new picocli.CommandLine(new BenchAnnCommand()).execute(args);
  }

  @Override
  public String toString() {
    return "bench-ann " + Arrays.toString(specs.toArray());
  }
}
