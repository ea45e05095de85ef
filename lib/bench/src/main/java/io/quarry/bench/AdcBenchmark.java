package io.quarry.bench;

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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The ADC scan of issue 13 on the setup of the issue: {@code n} (50,000) seeded clustered 384-d unit vectors (the
 * generator of {@link QuantizerBenchmark}), {@code IVF256,PQ48x8}, inner product, trained in memory on the first
 * 20,000, nprobe 16, top 100, one query at a time, one thread.
 *
 * <ul>
 *   <li>{@link #search}: {@link IvfPqSearcher#search(float[], int, int, io.quarry.core.quant.ivf.InvertedLists)} per query
 *       (rotation, probing, the ADC table, the scan, the top-k), as FAISS {@code IndexIVFPQ.search} with one query.
 *   <li>{@link #scan}: the per-shard part only, {@code search(PreparedQuery, k, lists)} on queries prepared in setup
 *       (the list scans and the top-k).
 * </ul>
 *
 * {@link #main} runs both through JMH and prints µs per query, codes scanned per query (the mean over the queries of
 * the probed lists' sizes) and ns per scanned code; with {@code --out DIR} it first writes the vectors, Quarry's
 * coarse centroids and PQ codebooks and its top-k to DIR for {@code lib/bench/scripts/faiss_adc_bench.py}, and
 * afterwards its results to {@code DIR/quarry.json}. Driver: {@code lib/bench/scripts/adc_vs_faiss.sh}; see
 * docs/benchmarks.md, "ADC scan vs FAISS (issue 13)".
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class AdcBenchmark {
  static final int D = 384;
  static final int QUERIES = 256;

  @Param({"IVF256,PQ48x8"})
  public String spec;

  @Param({"50000"})
  public int n;

  @Param({"16"})
  public int nprobe;

  @Param({"100"})
  public int k;

  /** {@code ip} (the setup) or {@code l2} (residual L2, Quarry's default metric). */
  @Param({"ip"})
  public String metric;

  /**
   * L2 only: {@code precomputed} (FAISS's precomputed-table decomposition, the default) or {@code perList} (one
   * {@code M × ksub} table per probed list, {@code precomputedTableMaxBytes = 0}).
   */
  @Param({"precomputed"})
  public String l2Tables;

  QuantizerModel model;
  ArrayInvertedLists lists;
  IvfPqSearcher searcher;
  float[] queryData;
  float[][] queries;
  IvfPqSearcher.PreparedQuery[] prepared;
  double codesPerQuery;
  int next;

  @Setup(Level.Trial)
  public void setup() {
    float[] x = QuantizerBenchmark.unitVectors(n, D, 1);
    int nt = Math.min(n, 20_000);
    DistanceMetric m = DistanceMetric.valueOf(metric.toUpperCase(Locale.ROOT));
    model = cachedModel(x, nt, m);
    lists = ArrayInvertedLists.build(model, x, n);
    searcher = switch (l2Tables) {
      case "precomputed" -> new IvfPqSearcher(model);
      case "perList" -> new IvfPqSearcher(model, 0);
      default -> throw new IllegalArgumentException("l2Tables: precomputed | perList, got " + l2Tables);
    };
    queryData = QuantizerBenchmark.unitVectors(QUERIES, D, 2);
    queries = new float[QUERIES][];
    prepared = new IvfPqSearcher.PreparedQuery[QUERIES];
    long scanned = 0;
    for (int i = 0; i < QUERIES; i++) {
      queries[i] = Arrays.copyOfRange(queryData, i * D, (i + 1) * D);
      prepared[i] = searcher.prepare(queries[i], nprobe);
      for (int list : prepared[i].probes()) {
        scanned += lists.size(list);
      }
    }
    codesPerQuery = (double) scanned / QUERIES;
  }

  /**
   * The seeded in-memory training on the first {@code nt} vectors, kept in {@code java.io.tmpdir} (key: spec, n,
   * metric) so that JMH's forks and reruns load the same model instead of training it again (training is seeded, so a
   * retrained model would be identical; the cache only saves time).
   */
  private QuantizerModel cachedModel(float[] x, int nt, DistanceMetric m) {
    Path file = Path.of(System.getProperty("java.io.tmpdir"), String.format(Locale.ROOT,
        "quarry-adcbench-%s-n%d-%s.bin", spec.replace(',', '_'), n, m.name().toLowerCase(Locale.ROOT)));
    try {
      if (Files.exists(file)) {
        try (var in = Files.newInputStream(file)) {
          return QuantizerFormat.read(in, file.toString());
        }
      }
      QuantizerModel trained = QuantizerTrainer.train(Arrays.copyOf(x, nt * D), nt, D, IndexSpec.parse(spec), m,
          new QuantizerTrainer.Params(1, 8, 1e-3, 256, 2));
      Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
      try (var out = Files.newOutputStream(tmp)) {
        QuantizerFormat.write(trained, out);
      }
      Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return trained;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Benchmark
  public List<Neighbor> search() {
    return searcher.search(queries[next++ & (QUERIES - 1)], k, nprobe, lists);
  }

  @Benchmark
  public List<Neighbor> scan() {
    return searcher.search(prepared[next++ & (QUERIES - 1)], k, lists);
  }

  /** {@link #search} with the Vector API switched off ({@code -Dquarry.simd=false}: the scalar loops, same bits). */
  @Benchmark
  @Fork(value = 1, jvmArgsAppend = "-Dquarry.simd=false")
  public List<Neighbor> searchScalar() {
    return search();
  }

  /**
   * {@link #scan} with the quantized-table scan switched off ({@code -Dquarry.adc.lut=false}): the float-table scan
   * over every code, on the same Vector API build (the default before the quantized-table scan).
   */
  @Benchmark
  @Fork(value = 1, jvmArgsAppend = "-Dquarry.adc.lut=false")
  public List<Neighbor> scanFloat() {
    return scan();
  }

  /** {@link #scan} with the Vector API switched off. */
  @Benchmark
  @Fork(value = 1, jvmArgsAppend = "-Dquarry.simd=false")
  public List<Neighbor> scanScalar() {
    return scan();
  }

  /** Writes base/query vectors, centroids, codebooks and Quarry's top-k ids (.fvecs / .ivecs) and setup.json. */
  void export(Path dir) throws IOException {
    Files.createDirectories(dir);
    VecsFormat.writeFvecs(dir.resolve("base.fvecs"), QuantizerBenchmark.unitVectors(n, D, 1), n, D);
    VecsFormat.writeFvecs(dir.resolve("query.fvecs"), queryData, QUERIES, D);
    if (model.spec().hasIvf()) {
      VecsFormat.writeFvecs(dir.resolve("centroids.fvecs"), model.centroids(), model.nlist(), D);
    }
    if (model.pq() != null) {
      VecsFormat.writeFvecs(dir.resolve("codebooks.fvecs"), model.codebooks(), model.m() * model.ksub(),
          model.dsub());
    }
    int[] top = new int[QUERIES * k];
    Arrays.fill(top, -1);
    for (int i = 0; i < QUERIES; i++) {
      List<Neighbor> hits = searcher.search(queries[i], k, nprobe, lists);
      for (int r = 0; r < hits.size(); r++) {
        top[i * k + r] = hits.get(r).id();
      }
    }
    VecsFormat.writeIvecs(dir.resolve("quarry-topk.ivecs"), top, QUERIES, k);
  }

  private static Map<String, String> parseArgs(String[] args) {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("spec", "IVF256,PQ48x8");
    o.put("n", "50000");
    o.put("nprobe", "16");
    o.put("k", "100");
    o.put("warmup", "3");
    o.put("iterations", "5");
    o.put("time", "2");
    o.put("forks", "1");
    o.put("metric", "ip");
    o.put("l2Tables", "precomputed");
    o.put("scalar", "false");
    o.put("prepareOnly", "false");
    o.put("passes", "0");
    o.put("out", "");
    for (int i = 0; i < args.length; i += 2) {
      String key = args[i].replaceFirst("^--", "");
      if (!o.containsKey(key) || i + 1 >= args.length) {
        throw new IllegalArgumentException("usage: AdcBenchmark [--spec S] [--n N] [--nprobe P] [--k K] [--warmup W]"
            + " [--iterations I] [--time SECONDS] [--forks F] [--metric ip|l2] [--l2Tables precomputed|perList]"
            + " [--scalar true|false] [--prepareOnly true|false] [--passes P] [--out DIR]; got "
            + String.join(" ", args));
      }
      o.put(key, args[i + 1]);
    }
    return o;
  }

  /**
   * Runs {@link #search} and {@link #scan} through JMH and prints the table; see the class comment.
   *
   * @param args {@code --spec IVF256,PQ48x8 --n 50000 --nprobe 16 --k 100 --warmup 3 --iterations 5 --time 2
   *     --forks 1 --out DIR} (all optional; these are the defaults, without DIR); {@code --passes P} instead runs
   *     {@link #search} over the 256 queries {@code P} times without JMH (for timing the whole process from outside,
   *     against {@code faiss_adc_bench.py --repeat P}) and prints its own µs per query
   */
  public static void main(String[] args) throws Exception {
    Map<String, String> o = parseArgs(args);
    AdcBenchmark b = new AdcBenchmark();
    b.spec = o.get("spec");
    b.n = Integer.parseInt(o.get("n"));
    b.nprobe = Integer.parseInt(o.get("nprobe"));
    b.k = Integer.parseInt(o.get("k"));
    b.metric = o.get("metric");
    b.l2Tables = o.get("l2Tables");
    // the same seeded training as the JMH fork's setup: the codes scanned per query, and the export for FAISS
    b.setup();
    if (Boolean.parseBoolean(o.get("prepareOnly"))) { // train and cache the model only (no timing)
      return;
    }
    int passes = Integer.parseInt(o.get("passes"));
    if (passes > 0) { // no JMH: P passes of search() over the queries, for whole-process timing from outside
      long t0 = System.nanoTime();
      long sink = 0;
      for (int p = 0; p < passes * QUERIES; p++) {
        sink += b.search().size();
      }
      double us = (System.nanoTime() - t0) / 1e3 / (passes * QUERIES);
      System.out.printf(Locale.ROOT, "search: %d passes x %d queries, %.1f us/query (in process), %d hits%n", passes,
          QUERIES, us, sink);
      return;
    }
    Path out = o.get("out").isEmpty() ? null : Path.of(o.get("out"));
    if (out != null) {
      b.export(out);
    }
    int threads = 1;
    ChainedOptionsBuilder opt = new OptionsBuilder()
        .include(AdcBenchmark.class.getName() + (Boolean.parseBoolean(o.get("scalar"))
            ? "\\.(search|scan)(Scalar|Float)?$" : "\\.(search|scan)$"))
        .param("spec", b.spec)
        .param("n", o.get("n"))
        .param("nprobe", o.get("nprobe"))
        .param("k", o.get("k"))
        .param("metric", b.metric)
        .param("l2Tables", b.l2Tables)
        .warmupIterations(Integer.parseInt(o.get("warmup")))
        .measurementIterations(Integer.parseInt(o.get("iterations")))
        .warmupTime(TimeValue.seconds(Long.parseLong(o.get("time"))))
        .measurementTime(TimeValue.seconds(Long.parseLong(o.get("time"))))
        .forks(Integer.parseInt(o.get("forks")))
        .threads(threads);
    Collection<RunResult> results = new Runner(opt.build()).run();
    Map<String, double[]> rows = new LinkedHashMap<>();
    for (RunResult r : results) {
      String name = r.getParams().getBenchmark().replaceFirst(".*\\.", "");
      rows.put(name, new double[] {r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()});
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "Quarry ADC: n=%d, %s, %s%s, nprobe=%d, k=%d, %d queries one at a time, "
        + "%d thread%n", b.n, b.spec, b.metric, b.metric.equals("l2") ? " (" + b.l2Tables + " tables)" : "", b.nprobe,
        b.k, QUERIES, threads);
    System.out.printf(Locale.ROOT, "%-8s %12s %10s %14s %11s%n", "what", "us/query", "+/-", "codes/query", "ns/code");
    List<String> json = new ArrayList<>();
    for (Map.Entry<String, double[]> e : rows.entrySet()) {
      double us = e.getValue()[0];
      double nsPerCode = us * 1000 / b.codesPerQuery;
      System.out.printf(Locale.ROOT, "%-8s %12.1f %10.1f %14.1f %11.2f%n", e.getKey(), us, e.getValue()[1],
          b.codesPerQuery, nsPerCode);
      json.add(String.format(Locale.ROOT, "\"%s\": {\"us_per_query\": %.3f, \"error_us\": %.3f, \"ns_per_code\": %.4f}",
          e.getKey(), us, e.getValue()[1], nsPerCode));
    }
    if (out != null) {
      String text = String.format(Locale.ROOT, "{\"spec\": \"%s\", \"n\": %d, \"d\": %d, \"ntrain\": %d, \"nprobe\": %d, "
          + "\"k\": %d, \"queries\": %d, \"metric\": \"%s\", \"codes_per_query\": %.3f, %s}%n", b.spec, b.n, D,
          Math.min(b.n, 20_000), b.nprobe, b.k, QUERIES, b.metric, b.codesPerQuery, String.join(", ", json));
      Files.writeString(out.resolve("quarry.json"), text, StandardCharsets.UTF_8);
      System.out.println("wrote " + out.resolve("quarry.json"));
    }
  }
}
