package io.quarry.jobs.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.QuarryConfig;
import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.quant.ivf.ArrayInvertedLists;
import io.quarry.core.quant.ivf.IvfPqSearcher;
import io.quarry.core.quant.train.QuantizerTrainer;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.SparkTest;
import io.quarry.jobs.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The train stage on synthetic clustered embeddings, local[2]. */
@SparkTest
class TrainQuantizerJobTest {
  static SparkSession spark;
  static final int DIM = 16;
  static final int N = 2500;
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @BeforeAll
  static void start() {
    spark = SparkTestSupport.localSpark("train-test", 4);
  }

  @AfterAll
  static void stop() {
    SparkTestSupport.release(spark);
  }

  /** Clustered, correlated vectors (row-major N × DIM), seeded. */
  static float[] data() {
    Random rnd = new Random(21);
    float[] mix = new float[DIM * DIM];
    for (int i = 0; i < mix.length; i++) {
      mix[i] = (float) rnd.nextGaussian();
    }
    float[] centres = new float[12 * DIM];
    for (int i = 0; i < centres.length; i++) {
      centres[i] = (float) rnd.nextGaussian() * 2;
    }
    float[] x = new float[N * DIM];
    for (int i = 0; i < N; i++) {
      int c = rnd.nextInt(12);
      float[] z = new float[DIM];
      for (int t = 0; t < DIM; t++) {
        z[t] = centres[c * DIM + t] + (float) (rnd.nextGaussian() * Math.pow(0.8, t));
      }
      for (int r = 0; r < DIM; r++) {
        float s = 0;
        for (int t = 0; t < DIM; t++) {
          s += mix[r * DIM + t] * z[t];
        }
        x[i * DIM + r] = s;
      }
    }
    return x;
  }

  void writeEmbeddings(Path work, float[] x, boolean bad) {
    StructType es = new StructType().add("chunk_id", DataTypes.StringType).add("doc_id", DataTypes.StringType)
        .add("vector", DataTypes.createArrayType(DataTypes.FloatType));
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      Float[] boxed = new Float[DIM];
      for (int t = 0; t < DIM; t++) {
        boxed[t] = x[i * DIM + t];
      }
      rows.add(RowFactory.create("d" + (i / 3) + "#" + (i % 3), "d" + (i / 3), Arrays.asList(boxed)));
    }
    if (bad) {
      rows.add(RowFactory.create("short#0", "short", Arrays.asList(1f, 2f)));
      rows.add(RowFactory.create("nan#0", "nan", Arrays.asList(new Float[] {Float.NaN, 0f, 0f, 0f, 0f, 0f, 0f, 0f,
          0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f})));
      rows.add(RowFactory.create("null#0", "null", null));
    }
    spark.createDataFrame(rows, es).repartition(3).write().parquet(work.resolve("embeddings").toString());
  }

  static String sha256(byte[] b) throws Exception {
    return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
  }

  JobContext ctx(Path work, String... extra) {
    List<String> overrides = new ArrayList<>(List.of("paths.work=" + work, "quantizer.maxIter=15",
        "quantizer.opqIterations=3"));
    overrides.addAll(List.of(extra));
    QuarryConfig c = ConfigLoader.load(List.of(), overrides);
    return new JobContext(spark, c, ConfigLoader.toJson(c), ConfigLoader.hash(c));
  }

  @Test
  void trainsOpqIvfPqDeterministicallyAndQuarantinesBadRows() throws Exception {
    float[] x = data();
    Path work = tmp.resolve("w");
    writeEmbeddings(work, x, true);
    JobSummary s1 = new TrainQuantizerJob().run(ctx(work, "quantizer.spec=OPQ4,IVF8,PQ4x6", "quantizer.metric=l2"));
    byte[] bin1 = Files.readAllBytes(work.resolve("quantizer/quantizer.bin"));
    String json1 = Files.readString(work.resolve("quantizer/quantizer.json"));
    QuantizerModel model = QuantizerFormat.fromBytes(bin1, "quantizer.bin");

    assertThat(s1.get("quarantined.wrong_dimension")).isEqualTo(1L);
    assertThat(s1.get("quarantined.non_finite")).isEqualTo(1L);
    assertThat(s1.get("quarantined.null_vector")).isEqualTo(1L);
    assertThat(Files.exists(work.resolve("quarantine/train"))).isTrue();
    assertThat(s1.get("vectors")).isEqualTo((long) N);
    assertThat(model.spec()).isEqualTo(IndexSpec.parse("OPQ4,IVF8,PQ4x6"));
    assertThat(model.dim()).isEqualTo(DIM);
    assertThat(model.info().sampleSize()).isEqualTo(N); // cap 256 × max(8, 64) > N
    assertThat(model.info().sparkVersion()).isEqualTo(spark.version());
    JsonNode j = JSON.readTree(json1);
    assertThat(j.get("spec").asText()).isEqualTo("OPQ4,IVF8,PQ4x6");
    assertThat(j.get("encoding").get("vectors").asLong()).isEqualTo(N);

    // the error reported over all vectors matches the model's, and is far below the data variance
    double mse = (Double) s1.get("quantizationMse");
    assertThat(mse).isCloseTo(model.info().metrics().get("pq.mse"), org.assertj.core.api.Assertions.within(1e-6));
    assertThat(mse).isLessThan(model.info().metrics().get("ivf.mse"));

    // OPQ lowers the error it alternates on
    assertThat(model.info().metrics().get("opq.mse.iter02")).isLessThan(model.info().metrics().get("opq.mse.iter00"));

    // comparable to the in-memory trainer on the same data (different k-means init: allow 25%)
    QuantizerModel local = QuantizerTrainer.train(x, N, DIM, model.spec(), DistanceMetric.L2,
        new QuantizerTrainer.Params(42, 15, 1e-4, 256, 3));
    assertThat(mse).isLessThan(1.25 * local.info().metrics().get("pq.mse"));

    // searchable: nprobe = nlist equals exhaustive ADC, and database vectors find themselves
    ArrayInvertedLists lists = ArrayInvertedLists.build(model, x, N);
    IvfPqSearcher searcher = new IvfPqSearcher(model);
    int self = 0;
    for (int q = 0; q < 40; q++) {
      float[] query = Arrays.copyOfRange(x, q * 61 * DIM, (q * 61 + 1) * DIM);
      assertThat(searcher.search(query, 20, 8, lists)).isEqualTo(searcher.searchExhaustive(query, 20, lists));
      int target = q * 61;
      if (searcher.search(query, 10, 2, lists).stream().anyMatch(h -> h.id() == target)) {
        self++;
      }
    }
    assertThat(self).isGreaterThanOrEqualTo(30);

    // same input + config + seed → byte-identical outputs
    new TrainQuantizerJob().run(ctx(work, "quantizer.spec=OPQ4,IVF8,PQ4x6", "quantizer.metric=l2"));
    assertThat(sha256(Files.readAllBytes(work.resolve("quantizer/quantizer.bin")))).isEqualTo(sha256(bin1));
    assertThat(Files.readString(work.resolve("quantizer/quantizer.json"))).isEqualTo(json1);
  }

  /**
   * {@code quantizer.ivfInit} / {@code quantizer.ivfSolver} reach MLlib (FAISS's random init with the block solver,
   * through {@code MllibKMeansFit}): a different model from MLlib's defaults, of comparable error, byte-identical
   * when trained twice.
   */
  /**
   * Above {@link TrainQuantizerJob#STATS_SAMPLE} inputs the statistics pass takes a seeded sample of about that many
   * (each vector with probability cap / n, by its id): the same vectors on every call, a fair share of them.
   */
  @Test
  void theStatisticsPassSamplesLargeInputsBySeededIds() {
    List<scala.Tuple2<String, float[]>> rows = new java.util.ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      rows.add(new scala.Tuple2<>("c" + i, new float[] {i}));
    }
    org.apache.spark.api.java.JavaPairRDD<String, float[]> vectors = org.apache.spark.api.java.JavaSparkContext
        .fromSparkContext(spark.sparkContext()).parallelizePairs(rows, 4);
    assertThat(TrainQuantizerJob.statsSet(vectors, 20_000, 42).count()).isEqualTo(20_000); // below the cap: all
    long pretendN = TrainQuantizerJob.STATS_SAMPLE * 10; // keep one in ten
    List<Float> a = TrainQuantizerJob.statsSet(vectors, pretendN, 42).map(v -> v[0]).collect();
    List<Float> b = TrainQuantizerJob.statsSet(vectors, pretendN, 42).map(v -> v[0]).collect();
    assertThat(a).isEqualTo(b);
    assertThat(a.size()).isBetween(1_800, 2_200);
    assertThat(TrainQuantizerJob.statsSet(vectors, pretendN, 43).map(v -> v[0]).collect()).isNotEqualTo(a);
  }

  @Test
  void ivfInitAndSolverFromTheConfigTrainDeterministically() throws Exception {
    float[] x = data();
    Path work = tmp.resolve("ivf-options");
    writeEmbeddings(work, x, false);
    String[] fast = {"quantizer.spec=IVF8,PQ4x6", "quantizer.ivfInit=random", "quantizer.ivfSolver=block"};
    JobSummary s = new TrainQuantizerJob().run(ctx(work, fast));
    byte[] bin = Files.readAllBytes(work.resolve("quantizer/quantizer.bin"));
    new TrainQuantizerJob().run(ctx(work, fast));
    assertThat(sha256(Files.readAllBytes(work.resolve("quantizer/quantizer.bin")))).isEqualTo(sha256(bin));

    JobSummary d = new TrainQuantizerJob().run(ctx(work, "quantizer.spec=IVF8,PQ4x6"));
    assertThat(sha256(Files.readAllBytes(work.resolve("quantizer/quantizer.bin")))).isNotEqualTo(sha256(bin));
    assertThat((Double) s.get("quantizationMse")).isLessThan(1.25 * (Double) d.get("quantizationMse"));
  }

  @Test
  void samplesAtMostMaxPointsPerCentroidAndFailsClearlyOnTooFewVectors() throws Exception {
    float[] x = data();
    Path work = tmp.resolve("s");
    writeEmbeddings(work, x, false);
    JobSummary s = new TrainQuantizerJob().run(ctx(work, "quantizer.spec=IVF16,PQ4x4",
        "quantizer.maxPointsPerCentroid=40", "quantizer.metric=ip"));
    // cap = 40 × max(nlist 16, ksub 16) = 640
    assertThat(s.get("sampleSize")).isEqualTo(640L);
    QuantizerModel m = QuantizerFormat.fromBytes(Files.readAllBytes(work.resolve("quantizer/quantizer.bin")), "q");
    assertThat(m.metric()).isEqualTo(DistanceMetric.IP);
    assertThat(m.nlist()).isEqualTo(16);
    assertThat(s.get("pqSampleSize")).isEqualTo(640L);

    // nlist > ksub: the IVF sees 40 × 32 = 1,280 vectors, the PQ the residuals of 40 × 16 = 640 of them (FAISS's cap
    // per PQ sub-quantizer); still deterministic
    JobSummary big = new TrainQuantizerJob().run(ctx(work, "quantizer.spec=IVF32,PQ4x4",
        "quantizer.maxPointsPerCentroid=40", "quantizer.metric=ip"));
    assertThat(big.get("sampleSize")).isEqualTo(1280L);
    assertThat(big.get("pqSampleSize")).isEqualTo(640L);
    byte[] bin = Files.readAllBytes(work.resolve("quantizer/quantizer.bin"));
    QuantizerModel bm = QuantizerFormat.fromBytes(bin, "q");
    assertThat(bm.info().metrics().get("pq.mse")).isLessThan(bm.info().metrics().get("ivf.mse"));
    new TrainQuantizerJob().run(ctx(work, "quantizer.spec=IVF32,PQ4x4", "quantizer.maxPointsPerCentroid=40",
        "quantizer.metric=ip"));
    assertThat(sha256(Files.readAllBytes(work.resolve("quantizer/quantizer.bin")))).isEqualTo(sha256(bin));
    assertThatThrownBy(() -> new TrainQuantizerJob().run(ctx(work, "quantizer.spec=IVF4096,PQ4x8")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(N + " training vectors for nlist = 4096");
    // a spec that does not divide the dimension is refused (by the config check, before the stage runs)
    assertThatThrownBy(() -> new TrainQuantizerJob().run(ctx(work, "quantizer.spec=IVF16,PQ5x8")))
        .hasMessageContaining("is not divisible by PQ M = 5");
  }
}
