package io.quarry.jobs;

import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.QuarryConfig;
import io.quarry.core.search.DenseSearcher;
import io.quarry.core.search.ScoredChunk;
import io.quarry.core.segment.IndexVersion;
import io.quarry.jobs.build.BuildIndexJob;
import io.quarry.jobs.build.PublishedIndex;
import io.quarry.jobs.chunk.ChunkJob;
import io.quarry.jobs.embed.EmbedJob;
import io.quarry.jobs.train.BenchTrainCommand;
import io.quarry.jobs.train.MllibBlasProducts;
import io.quarry.jobs.train.SyntheticVectors;
import io.quarry.jobs.train.TrainQuantizerJob;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code quarry bench-build}: the index build end to end at scale on synthetic data — generate → train → build
 * (encode + shards) → search — with the pipeline's own stage jobs and config, one Markdown row per (N, spec).
 *
 * <p>Generate writes {@code N} chunks ({@link ChunkJob#CHUNK_SCHEMA}: one chunk per document, id {@code d<i>#0}, a
 * short text) and their embeddings ({@link EmbedJob#EMBEDDING_SCHEMA}: {@link SyntheticVectors} vector {@code i},
 * {@code d} floats) as Parquet under {@code <work>/n<N>/}, plus the {@code _model.json} the build reads (model id
 * {@code synthetic-clustered}). Then {@link TrainQuantizerJob} and {@link BuildIndexJob} run on them exactly as
 * {@code quarry train} and {@code quarry build} do (the config given, with {@code paths.work} and
 * {@code quantizer.spec} set per row), and the published version is opened as the serving jar opens it. Quality:
 * 1-recall@1 and 1-recall@10 (the fraction of held-back queries — vectors {@code N … N + queries − 1}, not in the
 * index — whose exact inner-product nearest neighbour among the {@code N} is the first hit / among the first 10 of
 * the ADC search at {@code --nprobe}; FAISS's benchmark definition, as in {@code bench-train}). The exact neighbours
 * are computed in Spark with MLlib's BLAS ({@code sgemm} of query blocks × data blocks).
 *
 * <p>Times are wall seconds of one stage each; the per-vector time is (train + build) / N in µs, and the ratio is to
 * the first row of the same invocation. Peak heap is the JVM's (in {@code local[*]} mode the driver also runs the
 * executors, so it includes cached partitions), measured per stage.
 */
@Command(name = "bench-build", mixinStandardHelpOptions = true,
    description = "Index build scale benchmark: synthetic chunks + embeddings -> train -> build -> recall.")
public final class BenchBuildCommand implements Callable<Integer> {
  /** The model id written into the synthetic embeddings' {@code _model.json}. */
  public static final String MODEL_ID = "synthetic-clustered";

  @CommandLine.Mixin QuarryCli.ConfigOptions opts = new QuarryCli.ConfigOptions();

  @Option(names = "--work", required = true, paramLabel = "DIR", description = "Scratch root: each row writes "
      + "DIR/n<N>-<row> (chunks, embeddings, quantizer, index); deleted after the row unless --keep.")
  String work;

  @Option(names = "--n", split = ",", required = true, description = "Vector counts, one row each.")
  List<Long> ns;

  @Option(names = "--specs", split = ";", required = true, description = "Index specs, ';'-separated: one for "
      + "every row, or one per --n (paired in order).")
  List<String> specs;

  @Option(names = "--d", description = "Dimension (default: ${DEFAULT-VALUE}).") int d = 384;

  @Option(names = "--clusters", description = "Gaussian clusters in the data (default: ${DEFAULT-VALUE}).")
  int clusters = 1000;

  @Option(names = "--seed", description = "Data seed (the quantizer's is quantizer.seed; default: ${DEFAULT-VALUE}).")
  long seed = 42;

  @Option(names = "--rows-per-partition", description = "Generated rows per Parquet file (default: "
      + "${DEFAULT-VALUE}).")
  long rowsPerPartition = 62_500;

  @Option(names = "--queries", description = "Held-back queries (default: ${DEFAULT-VALUE}).") int queries = 1000;

  @Option(names = "--nprobe", description = "nprobe of the recall search (default: ${DEFAULT-VALUE}).")
  int nprobe = 16;

  @Option(names = "--keep", description = "Keep each row's directory.") boolean keep;

  /** One measured row: stage wall seconds, peak heap per stage (MiB), recall, the published version's size. */
  record Measured(long n, String spec, int shards, double generate, double groundTruth, double train, double build,
      long trainHeapMiB, long buildHeapMiB, double r1, double r10, long indexBytes, double quantizationMse) {
    double microsPerVector() {
      return (train + build) / n * 1e6;
    }
  }

  @Override
  public Integer call() throws Exception {
    if (specs.size() != 1 && specs.size() != ns.size()) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--specs: give one spec or one per --n ("
          + ns.size() + "), got " + specs.size());
    }
    List<QuarryConfig> configs = new ArrayList<>();
    for (int i = 0; i < ns.size(); i++) { // every row's config checked before any work
      configs.add(opts.loadChecked(List.of("train", "build"), overrides(i)));
    }
    SparkSession spark = QuarryCli.openSpark(configs.get(0), "quarry-bench-build");
    List<Measured> rows = new ArrayList<>();
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      System.out.println("MLlib BLAS: " + (MllibBlasProducts.nativeLoaded() ? "native" : "Java fallback"));
      for (int i = 0; i < ns.size(); i++) {
        rows.add(runOne(spark, jsc, configs.get(i), ns.get(i), spec(i), rowDir(i)));
        System.out.println(format(rows.get(i), rows.get(0)));
      }
    } finally {
      spark.stop();
    }
    System.out.printf(Locale.ROOT, "%nSynthetic clustered unit vectors: d=%d, %d clusters, seed %d, %d held-back "
        + "queries, nprobe %d; config %s%n%n", d, clusters, seed, queries, nprobe, opts.configFiles);
    System.out.println("| N | spec | shards | generate s | train s | build s | train + build s | µs / vector | "
        + "vs row 1 | peak heap MiB: train | build | 1-R@1 | 1-R@10 | index MiB | quantization MSE |");
    System.out.println("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    rows.forEach(r -> System.out.println(format(r, rows.get(0))));
    return 0;
  }

  private String spec(int i) {
    return (specs.size() == 1 ? specs.get(0) : specs.get(i)).strip();
  }

  private String rowDir(int i) {
    return PublishedIndex.child(work, "n" + ns.get(i) + "-" + i);
  }

  private String[] overrides(int i) {
    return new String[] {"paths.work=" + rowDir(i), "quantizer.spec=" + spec(i)};
  }

  private Measured runOne(SparkSession spark, JavaSparkContext jsc, QuarryConfig config, long n, String spec,
      String dir) throws Exception {
    JobContext ctx = new JobContext(spark, config, ConfigLoader.toJson(config), ConfigLoader.hash(config));
    ctx.deleteIfExists(dir);
    Broadcast<float[]> centres = jsc.broadcast(SyntheticVectors.centres(seed, clusters, d));
    long t0 = System.nanoTime();
    generate(ctx, jsc, centres, n);
    double gen = (System.nanoTime() - t0) / 1e9;
    float[] xq = new float[queries * d];
    for (int q = 0; q < queries; q++) {
      System.arraycopy(SyntheticVectors.vector(centres.value(), clusters, d, seed, n + q), 0, xq, q * d, d);
    }
    long t1 = System.nanoTime();
    long[] truth = exactNearest(jsc, centres, n, xq);
    double gt = (System.nanoTime() - t1) / 1e9;

    System.gc();
    BenchTrainCommand.resetPeaks();
    JobSummary train = QuarryCli.runAll(ctx, List.of(new TrainQuantizerJob())).get(0);
    long trainHeap = BenchTrainCommand.peakHeapMiB();
    System.gc();
    BenchTrainCommand.resetPeaks();
    JobSummary build = QuarryCli.runAll(ctx, List.of(new BuildIndexJob())).get(0);
    long buildHeap = BenchTrainCommand.peakHeapMiB();

    IndexVersion version = IndexVersion.open(PublishedIndex.localCopy(ctx, null), false);
    DenseSearcher searcher = new DenseSearcher(version);
    int hit1 = 0;
    int hit10 = 0;
    for (int q = 0; q < queries; q++) {
      List<ScoredChunk> hits = searcher.search(Arrays.copyOfRange(xq, q * d, (q + 1) * d), 10, nprobe);
      String want = chunkId(truth[q]);
      for (int r = 0; r < hits.size(); r++) {
        ScoredChunk h = hits.get(r);
        if (version.shards().get(h.shard()).table().chunkId(h.id()).equals(want)) {
          hit1 += r == 0 ? 1 : 0;
          hit10++;
          break;
        }
      }
    }
    long bytes = version.manifest().shards().stream().flatMap(s -> s.files().stream())
        .mapToLong(f -> f.bytes()).sum();
    Measured row = new Measured(n, spec, version.shards().size(), gen, gt, seconds(train), seconds(build), trainHeap,
        buildHeap, (double) hit1 / queries, (double) hit10 / queries, bytes,
        ((Number) train.get("quantizationMse")).doubleValue());
    centres.destroy();
    if (!keep) {
      ctx.deleteIfExists(dir);
    }
    return row;
  }

  private static double seconds(JobSummary s) {
    return ((Number) s.get("wallSeconds")).doubleValue();
  }

  /** The chunk id of synthetic vector {@code i}: document {@code d<i>}, its only chunk. */
  static String chunkId(long i) {
    return "d" + i + "#0";
  }

  /** Writes the chunks and embeddings of vectors {@code 0 … n − 1} and the embeddings' {@code _model.json}. */
  private void generate(JobContext ctx, JavaSparkContext jsc, Broadcast<float[]> centres, long n) throws Exception {
    int dd = d;
    int k = clusters;
    long sd = seed;
    JavaRDD<long[]> ranges = ranges(jsc, n);
    JavaRDD<Row> chunks = ranges.flatMap(r -> {
      List<Row> out = new ArrayList<>((int) (r[1] - r[0]));
      for (long i = r[0]; i < r[1]; i++) {
        String text = "synthetic passage " + i + " about topic " + SyntheticVectors.cluster(k, sd, i);
        out.add(RowFactory.create(chunkId(i), "d" + i, 0, null, text, 0, text.length(), 6, null));
      }
      return out.iterator();
    });
    JavaRDD<Row> embeddings = ranges.flatMap(r -> {
      List<Row> out = new ArrayList<>((int) (r[1] - r[0]));
      for (long i = r[0]; i < r[1]; i++) {
        out.add(RowFactory.create(chunkId(i), "d" + i, SyntheticVectors.vector(centres.value(), k, dd, sd, i),
            null));
      }
      return out.iterator();
    });
    ctx.spark().createDataFrame(chunks, ChunkJob.CHUNK_SCHEMA).write().parquet(ctx.config().paths().chunksDir());
    String embDir = ctx.config().paths().embeddingsDir();
    ctx.spark().createDataFrame(embeddings, EmbedJob.EMBEDDING_SCHEMA).write().parquet(embDir);
    String described = MODEL_ID + " seed=" + seed + " clusters=" + clusters + " d=" + d;
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(described.getBytes(StandardCharsets.UTF_8)));
    ctx.writeString(PublishedIndex.child(embDir, "_model.json"), "{\"modelId\": \"" + MODEL_ID + "\", \"sha256\": \""
        + sha + "\", \"dim\": " + d + ", \"normalized\": true}\n");
  }

  /** {@code [from, to)} id ranges of at most {@link #rowsPerPartition} rows, one partition each. */
  private JavaRDD<long[]> ranges(JavaSparkContext jsc, long n) {
    int parts = (int) Math.max(1, (n + rowsPerPartition - 1) / rowsPerPartition);
    List<long[]> list = new ArrayList<>();
    for (int p = 0; p < parts; p++) {
      list.add(new long[] {n * p / parts, n * (p + 1) / parts});
    }
    return jsc.parallelize(list, parts);
  }

  /**
   * The exact inner-product nearest neighbour among vectors {@code 0 … n − 1} of each query ({@code xq}: queries × d,
   * row-major); ties go to the lower id. Each partition regenerates its range in blocks of 1,024 and scores them
   * with one {@code sgemm} per block.
   */
  private long[] exactNearest(JavaSparkContext jsc, Broadcast<float[]> centres, long n, float[] xq) {
    int dd = d;
    int k = clusters;
    long sd = seed;
    int nq = queries;
    Broadcast<float[]> bq = jsc.broadcast(xq);
    List<Best> parts = ranges(jsc, n).map(r -> {
      Best best = new Best(nq);
      int block = 1024;
      float[] x = new float[block * dd];
      float[] out = new float[block * nq];
      for (long from = r[0]; from < r[1]; from += block) {
        int b = (int) Math.min(block, r[1] - from);
        for (int j = 0; j < b; j++) {
          System.arraycopy(SyntheticVectors.vector(centres.value(), k, dd, sd, from + j), 0, x, j * dd, dd);
        }
        // out (b × nq, row j = data vector from + j): products of each data vector with every query
        MllibBlasProducts.INSTANCE.products(x, b, bq.value(), nq, dd, out);
        for (int j = 0; j < b; j++) {
          for (int q = 0; q < nq; q++) {
            best.offer(q, out[j * nq + q], from + j);
          }
        }
      }
      return best;
    }).collect();
    Best all = new Best(nq);
    for (Best p : parts) {
      for (int q = 0; q < nq; q++) {
        all.offer(q, p.score[q], p.id[q]);
      }
    }
    bq.destroy();
    return all.id;
  }

  /** Per query, the best score so far and its id (ties: the lower id). */
  static final class Best implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    final float[] score;
    final long[] id;

    Best(int queries) {
      score = new float[queries];
      id = new long[queries];
      Arrays.fill(score, Float.NEGATIVE_INFINITY);
      Arrays.fill(id, Long.MAX_VALUE);
    }

    void offer(int q, float s, long i) {
      if (s > score[q] || (s == score[q] && i < id[q])) {
        score[q] = s;
        id[q] = i;
      }
    }
  }

  private static String format(Measured r, Measured first) {
    return String.format(Locale.ROOT, "| %d | %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f× | %d | %d | %.3f | "
        + "%.3f | %.1f | %.4f |", r.n(), r.spec(), r.shards(), r.generate(), r.train(), r.build(),
        r.train() + r.build(), r.microsPerVector(), r.microsPerVector() / first.microsPerVector(), r.trainHeapMiB(),
        r.buildHeapMiB(), r.r1(), r.r10(), r.indexBytes() / 1048576.0, r.quantizationMse());
  }
}
