package io.quarry.jobs.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.QuarryConfig;
import io.quarry.core.eval.EvalInputException;
import io.quarry.core.eval.EvalReport;
import io.quarry.core.eval.Evaluation;
import io.quarry.core.eval.FusionTuner;
import io.quarry.core.eval.Qrels;
import io.quarry.core.eval.ScoredDoc;
import io.quarry.core.eval.TrecRunFormat;
import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.quant.train.QuantizerTrainer;
import io.quarry.core.search.FusionSpec;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import io.quarry.embed.Embedder;
import io.quarry.embed.OnnxCrossEncoder;
import io.quarry.embed.TinyOnnx;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.SparkTest;
import io.quarry.jobs.SparkTestSupport;
import io.quarry.jobs.build.BuildIndexJob;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evaluate stage on a real slice of SciFact (data-samples/): the judged documents of 40 test queries plus
 * distractors, two chunks per document, embedded with the bundled bge-small-en-v1.5 (int8) model, an IVF4,PQ32x8
 * quantizer trained in memory and an index built by the build stage; then every stage is evaluated.
 */
@SparkTest
class EvaluateJobTest {
  static SparkSession spark;
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path SAMPLES = Path.of("..", "data-samples", "scifact");

  @TempDir static Path tmp;
  static Path work;
  static Map<String, Map<String, Integer>> judged;

  @BeforeAll
  static void setUp() throws Exception {
    spark = SparkTestSupport.localSpark("evaluate-test", 4);
    work = tmp.resolve("work");
    prepare();
  }

  @AfterAll
  static void tearDown() {
    SparkTestSupport.release(spark);
  }

  /** Queries, qrels (40 queries), chunks + embeddings of their documents and distractors, quantizer, index. */
  static void prepare() throws Exception {
    Qrels all;
    try (BufferedReader r = Files.newBufferedReader(SAMPLES.resolve("qrels/test.tsv"))) {
      all = Qrels.read("beir", "test.tsv", r);
    }
    judged = new LinkedHashMap<>();
    Set<String> docs = new LinkedHashSet<>();
    for (String q : all.queryIds()) {
      if (judged.size() == 40) {
        break;
      }
      judged.put(q, all.judgments(q));
      docs.addAll(all.judgments(q).keySet());
    }
    StringBuilder qrels = new StringBuilder("query-id\tcorpus-id\tscore\r\n");
    judged.forEach((q, j) -> j.forEach((d, g) -> qrels.append(q).append('\t').append(d).append('\t').append(g)
        .append("\r\n")));
    Files.createDirectories(work);
    Files.writeString(work.resolve("qrels.tsv"), qrels);
    Files.copy(SAMPLES.resolve("queries.jsonl"), work.resolve("queries.jsonl"));

    List<String[]> corpus = new ArrayList<>(); // id, title, text
    for (String line : Files.readAllLines(SAMPLES.resolve("corpus.jsonl"), StandardCharsets.UTF_8)) {
      JsonNode n = JSON.readTree(line);
      corpus.add(new String[] {n.get("_id").asText(), n.get("title").asText(), n.get("text").asText()});
    }
    List<String[]> chosen = new ArrayList<>();
    for (String[] d : corpus) {
      if (docs.contains(d[0]) || chosen.size() < 150 && chosen.size() % 2 == 0) {
        chosen.add(d);
      } else if (chosen.size() < 150) {
        chosen.add(d);
      }
    }
    StructType cs = new StructType().add("chunk_id", DataTypes.StringType).add("doc_id", DataTypes.StringType)
        .add("ordinal", DataTypes.IntegerType).add("title", DataTypes.StringType).add("text", DataTypes.StringType)
        .add("start_char", DataTypes.IntegerType).add("end_char", DataTypes.IntegerType)
        .add("n_tokens", DataTypes.IntegerType);
    StructType es = new StructType().add("chunk_id", DataTypes.StringType).add("doc_id", DataTypes.StringType)
        .add("vector", DataTypes.createArrayType(DataTypes.FloatType));
    List<Row> chunks = new ArrayList<>();
    List<String> passages = new ArrayList<>();
    List<String[]> ids = new ArrayList<>();
    for (String[] d : chosen) {
      String text = d[2];
      int mid = text.indexOf(' ', text.length() / 2);
      if (mid < 0) {
        mid = text.length();
      }
      String[] parts = {text.substring(0, mid), text.substring(mid).trim()};
      int[] starts = {0, Math.min(text.length(), mid + 1)};
      for (int o = 0; o < 2; o++) {
        if (parts[o].isEmpty()) {
          continue;
        }
        String cid = d[0] + "#" + o;
        chunks.add(RowFactory.create(cid, d[0], o, d[1], parts[o], starts[o], starts[o] + parts[o].length(), 0));
        passages.add(d[1] + " " + parts[o]);
        ids.add(new String[] {cid, d[0]});
      }
    }
    QuarryConfig base = ConfigLoader.load(List.of(), List.of());
    Embedder emb = Embedder.open(base.embedding());
    float[][] v = emb.embedPassages(passages);
    List<Row> embs = new ArrayList<>();
    float[] flat = new float[v.length * emb.dim()];
    for (int i = 0; i < v.length; i++) {
      Float[] boxed = new Float[emb.dim()];
      for (int j = 0; j < boxed.length; j++) {
        boxed[j] = v[i][j];
      }
      System.arraycopy(v[i], 0, flat, i * emb.dim(), emb.dim());
      embs.add(RowFactory.create(ids.get(i)[0], ids.get(i)[1], Arrays.asList(boxed)));
    }
    spark.createDataFrame(chunks, cs).repartition(2).write().parquet(work.resolve("chunks").toString());
    spark.createDataFrame(embs, es).repartition(3).write().parquet(work.resolve("embeddings").toString());
    Files.writeString(work.resolve("embeddings/_model.json"), "{\"modelId\":\"" + emb.modelId() + "\",\"sha256\":\""
        + emb.modelSha256() + "\",\"dim\":" + emb.dim() + "}");
    QuantizerModel q = QuantizerTrainer.train(flat, v.length, emb.dim(), IndexSpec.parse("IVF4,PQ32x8"),
        DistanceMetric.IP, QuantizerTrainer.Params.defaults(7));
    Files.createDirectories(work.resolve("quantizer"));
    Files.write(work.resolve("quantizer/quantizer.bin"), QuantizerFormat.toBytes(q));
    new BuildIndexJob().run(ctx());
  }

  static JobContext ctx(String... sets) {
    List<String> o = new ArrayList<>(List.of("paths.work=" + work, "spark.master=local[2]",
        "evaluation.queries=" + work.resolve("queries.jsonl"), "evaluation.qrels=" + work.resolve("qrels.tsv"),
        "quantizer.spec=IVF4,PQ32x8", "segments.shards=2", "evaluation.nprobe=2", "evaluation.candidates=200",
        "evaluation.sweepNprobe=[1,4]", "evaluation.sweepCandidates=[100,200]"));
    o.addAll(List.of(sets));
    QuarryConfig c = ConfigLoader.load(List.of(), o);
    return new JobContext(spark, c, ConfigLoader.toJson(c), ConfigLoader.hash(c));
  }

  @Test
  void evaluatesEveryStageAndWritesRunsMetricsAndReports() throws Exception {
    JobSummary s = new EvaluateJob().run(ctx("evaluation.runId=full"));
    Path out = work.resolve("eval/full");
    assertThat(s.get("report")).isEqualTo(out + "/report.md");
    EvalReport r = EvalReport.fromJson("metrics.json", Files.readString(out.resolve("metrics.json")));
    assertThat(r.stages()).extracting(EvalReport.StageResult::name)
        .containsExactly("bm25", "exact", "ivfpq", "rescore", "hybrid");
    assertThat(r.finalStage()).isEqualTo("hybrid");
    // untuned version: the built-in default fusion, after exact re-scoring of the union of both candidate lists
    assertThat(r.stage("hybrid").description()).contains("fused " + FusionSpec.DEFAULT).doesNotContain("tuned");
    assertThat(r.notes()).anyMatch(n -> n.contains("cross-encoder skipped"));
    // the queries were embedded here; the test's _model.json, like an older version's, records no platform
    assertThat(r.queryPlatform()).isEqualTo(io.quarry.embed.RuntimePlatform.current());
    assertThat(r.passagePlatforms()).isNull();
    assertThat(r.dataset().queryCount()).isEqualTo(40);
    assertThat(r.indexSpec()).isEqualTo("IVF4,PQ32x8");
    assertThat(r.modelId()).isEqualTo("bge-small-en-v1.5-q");
    for (EvalReport.StageResult st : r.stages()) {
      assertThat(st.queries()).isEqualTo(40);
      assertThat(st.emptyRankings()).as(st.name()).isZero();
      // far above a random ranking of 150 documents (nDCG@10 ~ 0.03)
      assertThat(st.metrics().get("nDCG@10")).as(st.name()).isGreaterThan(0.4);
      assertThat(st.metrics().get("Recall@100")).as(st.name()).isGreaterThan(0.8);
      // the run file evaluates to the same numbers (trec_eval reads it the same way)
      Map<String, List<ScoredDoc>> run;
      try (BufferedReader br = Files.newBufferedReader(out.resolve(st.runFile()))) {
        run = TrecRunFormat.read(st.runFile(), br);
      }
      assertThat(run.keySet()).containsExactlyInAnyOrderElementsOf(judged.keySet());
      Evaluation again = Evaluation.of(run, Qrels.of(judged), Evaluation.parseMetrics(List.of("nDCG@10", "MAP")));
      assertThat(again.mean("nDCG@10")).isCloseTo(st.metrics().get("nDCG@10"), within(1e-12));
      assertThat(again.mean("MAP")).isCloseTo(st.metrics().get("MAP"), within(1e-12));
    }
    EvalReport.StageResult ann = r.stage("ivfpq");
    assertThat(ann.annRecall()).isBetween(0.2, 1.0);
    assertThat(r.stage("exact").annRecall()).isNull();
    assertThat(Files.readString(out.resolve("run.trec"))).isEqualTo(Files.readString(out.resolve("runs/hybrid.trec")));

    // sweeps: nprobe = nlist scans everything, so ANN recall cannot be lower than at nprobe 1
    List<EvalReport.SweepPoint> np = r.sweeps().stream().filter(p -> p.parameter().equals("nprobe")).toList();
    assertThat(np).extracting(EvalReport.SweepPoint::value).containsExactly(1, 4);
    assertThat(np.get(1).annRecall()).isGreaterThanOrEqualTo(np.get(0).annRecall());
    assertThat(np.get(0).bytesPerVector()).isEqualTo(32 + 4);
    assertThat(r.sweeps().stream().filter(p -> p.parameter().equals("candidates")).findFirst().orElseThrow()
        .bytesPerVector()).isGreaterThan(32 + 4 + 384 * 4 - 1);

    // loss attribution accounts for every relevant document missing from the final top 10
    var loss = r.loss();
    assertThat(loss.k()).isEqualTo(10);
    assertThat(loss.relevant()).isEqualTo(judged.values().stream().mapToInt(Map::size).sum());
    assertThat(loss.counts().values().stream().mapToInt(Integer::intValue).sum())
        .isEqualTo(loss.relevant() - loss.found());

    assertThat(Files.readString(out.resolve("report.html"))).contains("id=\"chart-metrics\"><svg")
        .contains("id=\"chart-nprobe\"><svg").contains("id=\"chart-loss\"><svg");
    String md = Files.readString(out.resolve("report.md"));
    assertThat(md).contains("| hybrid **(final)** |").contains("nDCG@10").contains("Loss attribution")
        .contains(r.configHash());
    List<Row> pq = spark.read().parquet(out.resolve("per_query.parquet").toString()).collectAsList();
    assertThat(pq).hasSize(5 * 40);
    assertThat(spark.read().parquet(out.resolve("per_query.parquet").toString()).columns())
        .contains("stage", "query_id", "ndcg_10", "recall_100", "mrr_10", "p_10", "map", "success_10");

    // kept for inspection and for cross-checking the runs with trec_eval (docs/benchmarks.md)
    Path keep = Path.of("target", "evaluate-test");
    org.apache.commons.io.FileUtils.deleteQuietly(keep.toFile());
    org.apache.commons.io.FileUtils.copyDirectory(out.toFile(), keep.toFile());
    Files.copy(work.resolve("qrels.tsv"), keep.resolve("qrels.tsv"));

    // same input + config: identical runs and metrics (latencies aside)
    new EvaluateJob().run(ctx("evaluation.runId=again"));
    Path out2 = work.resolve("eval/again");
    for (String f : List.of("run.trec", "runs/bm25.trec", "runs/exact.trec", "runs/hybrid.trec")) {
      assertThat(Files.readString(out2.resolve(f))).as(f).isEqualTo(Files.readString(out.resolve(f)));
    }
  }

  @Test
  void tuneChoosesTheFusionOnTrainingQrelsAndTheEvaluationUsesIt() throws Exception {
    // training split: the first half of the judged queries (the evaluation's test qrels stay untouched)
    List<String> qids = new ArrayList<>(judged.keySet());
    StringBuilder train = new StringBuilder("query-id\tcorpus-id\tscore\n");
    for (String q : qids.subList(0, qids.size() / 2)) {
      judged.get(q).forEach((d, g) -> train.append(q).append('\t').append(d).append('\t').append(g).append('\n'));
    }
    Path trainQrels = work.resolve("qrels-train.tsv");
    Files.writeString(trainQrels, train.toString());
    String version = Files.readString(work.resolve("index/CURRENT")).trim();
    Path manifest = work.resolve("index").resolve(version).resolve("manifest.json");
    byte[] before = Files.readAllBytes(manifest);
    try {
      // never on the evaluation's own qrels
      assertThatThrownBy(() -> new TuneJob(false).run(ctx("tuning.qrels=" + work.resolve("qrels.tsv"))))
          .hasMessageContaining("never on the test set");
      assertThatThrownBy(() -> new TuneJob(false).run(ctx())).hasMessageContaining("tuning.qrels is not set");
      assertThat(new TuneJob(true).run(ctx()).get("skipped")).isNotNull();

      JobSummary s = new TuneJob(false).run(ctx("tuning.qrels=" + trainQrels, "tuning.depths=[20,50]",
          "tuning.nprobes=[1,4]", "tuning.alphas=[0.0,0.5,1.0]", "tuning.rrfKs=[10,60]", "tuning.latencyQueries=5"));
      assertThat(s.get("queries")).isEqualTo(20);
      // 2 nprobe x 2 depths x 2 levels (chunk, doc) x (2 rrf + 2x3 wrrf + 3x3 convex) points
      assertThat(s.get("points")).isEqualTo(2 * 2 * 2 * (2 + 6 + 9));
      IndexManifest m = IndexManifest.parse(Files.readAllBytes(manifest), "manifest");
      assertThat(m.search()).isNotNull();
      assertThat(m.search().tunedOn()).contains("qrels-train.tsv").contains("20 queries");
      assertThat(m.search().objective()).isEqualTo("nDCG@10");
      FusionSpec chosen = FusionSpec.parse(m.search().fusion());
      // only the search field changed: the version still validates with every checksum
      assertThat(m.withSearch(null)).isEqualTo(IndexManifest.parse(before, "before"));
      IndexVersion.open(manifest.getParent(), true);
      FusionTuner.Result tr = TuneJob.read(manifest.getParent());
      assertThat(tr.chosen().fusion()).isEqualTo(chosen.toString());
      assertThat(tr.curve()).isNotEmpty();
      // the chosen point is the best smoothed one within the (empty) budget
      double best = tr.points().stream().mapToDouble(FusionTuner.Point::smoothed).max().orElseThrow();
      assertThat(tr.chosen().smoothed()).isEqualTo(best);

      new EvaluateJob().run(ctx("evaluation.runId=tuned", "evaluation.stages=[hybrid]", "evaluation.sweepNprobe=[]",
          "evaluation.sweepCandidates=[]"));
      EvalReport r = EvalReport.fromJson("metrics.json",
          Files.readString(work.resolve("eval/tuned/metrics.json")));
      assertThat(r.stage("hybrid").description()).contains("fused " + chosen).contains("(tuned)")
          .contains("top " + m.search().denseDepth());
      // an explicit evaluation.fusion overrides the tuned one
      new EvaluateJob().run(ctx("evaluation.runId=explicit", "evaluation.stages=[hybrid]",
          "evaluation.fusion=rrf:k=60", "evaluation.sweepNprobe=[]", "evaluation.sweepCandidates=[]"));
      assertThat(EvalReport.fromJson("m", Files.readString(work.resolve("eval/explicit/metrics.json")))
          .stage("hybrid").description()).contains("fused rrf:k=60").doesNotContain("tuned");
    } finally {
      Files.write(manifest, before);
      Files.deleteIfExists(manifest.resolveSibling(TuneJob.FILE_NAME));
    }
  }

  @Test
  void crossEncoderStageReranksTheTopChunksWithTheConfiguredModel() throws Exception {
    Path ce = TinyOnnx.writeCrossEncoder(tmp.resolve("ce"));
    new EvaluateJob().run(ctx("evaluation.runId=ce", "evaluation.crossEncoder=" + ce,
        "evaluation.crossEncoderDepth=20", "evaluation.stages=[rescore,cross-encoder]", "evaluation.sweepNprobe=[]",
        "evaluation.sweepCandidates=[]"));
    Path out = work.resolve("eval/ce");
    EvalReport r = EvalReport.fromJson("metrics.json", Files.readString(out.resolve("metrics.json")));
    assertThat(r.stages()).extracting(EvalReport.StageResult::name).containsExactly("rescore", "cross-encoder");
    assertThat(r.finalStage()).isEqualTo("cross-encoder");
    assertThat(r.notes()).noneMatch(n -> n.contains("cross-encoder"));
    assertThat(r.stage("cross-encoder").description()).contains("cross-encoder over the top 20");
    assertThat(Files.readString(out.resolve("run.trec")))
        .isEqualTo(Files.readString(out.resolve("runs/cross-encoder.trec")));

    // Each top document's score is the model's score of one of its chunks, and the model reorders the re-scored
    // ranking; documents below the cross-encoded chunks follow them.
    Map<String, List<ScoredDoc>> run;
    Map<String, List<ScoredDoc>> before;
    try (BufferedReader a = Files.newBufferedReader(out.resolve("runs/cross-encoder.trec"));
        BufferedReader b = Files.newBufferedReader(out.resolve("runs/rescore.trec"))) {
      run = TrecRunFormat.read("cross-encoder.trec", a);
      before = TrecRunFormat.read("rescore.trec", b);
    }
    Map<String, List<String>> chunkTexts = new java.util.HashMap<>();
    for (Row row : spark.read().parquet(work.resolve("chunks").toString()).collectAsList()) {
      chunkTexts.computeIfAbsent(row.getAs("doc_id"), x -> new ArrayList<>()).add(row.getAs("text"));
    }
    Map<String, String> queryText = new java.util.HashMap<>();
    for (String line : Files.readAllLines(work.resolve("queries.jsonl"))) {
      JsonNode n = JSON.readTree(line);
      queryText.put(n.get("_id").asText(), n.get("text").asText());
    }
    int reordered = 0;
    try (OnnxCrossEncoder model = new OnnxCrossEncoder(ce, 512)) {
      for (String q : judged.keySet()) {
        List<ScoredDoc> docs = run.get(q);
        assertThat(docs).hasSizeGreaterThan(10);
        for (ScoredDoc d : docs.subList(0, 3)) {
          float[] s = model.score(queryText.get(q), chunkTexts.get(d.docId()));
          boolean match = false;
          for (float x : s) {
            match |= Math.abs(x - d.score()) < 1e-3;
          }
          assertThat(match).as("query %s doc %s: score %s is a model score of one of its chunks %s", q, d.docId(),
              d.score(), Arrays.toString(s)).isTrue();
        }
        if (!docs.get(0).docId().equals(before.get(q).get(0).docId())) {
          reordered++;
        }
      }
    }
    assertThat(reordered).isGreaterThan(0);

    // a missing model fails before any search runs, naming the key and the file
    assertThatThrownBy(() -> new EvaluateJob().run(ctx("evaluation.runId=nomodel",
        "evaluation.crossEncoder=" + tmp.resolve("nope"))))
        .hasMessageContaining("evaluation.crossEncoder").hasMessageContaining("model.onnx");
    assertThat(work.resolve("eval/nomodel")).doesNotExist();
  }

  @Test
  void exportAnnWritesTexmexFilesWithExactInnerProductGroundTruth() throws Exception {
    Path dir = tmp.resolve("ann");
    JobSummary s = new ExportAnnJob(dir, "sf", 10).run(ctx());
    io.quarry.core.quant.format.VecsFormat.Vecs base = io.quarry.core.quant.format.VecsFormat.readFvecs(dir.resolve("sf_base.fvecs"));
    io.quarry.core.quant.format.VecsFormat.Vecs q = io.quarry.core.quant.format.VecsFormat.readFvecs(dir.resolve("sf_query.fvecs"));
    io.quarry.core.quant.format.VecsFormat.Vecs gt =
        io.quarry.core.quant.format.VecsFormat.readIvecs(dir.resolve("sf_groundtruth.ivecs"));
    List<String> ids = Files.readAllLines(dir.resolve("sf_ids.txt"));
    long embeddings = spark.read().parquet(work.resolve("embeddings").toString()).count();
    assertThat(base.n()).isEqualTo(embeddings).isEqualTo(ids.size());
    assertThat(ids).isSorted();
    assertThat(q.n()).isEqualTo(40).isEqualTo(s.get("queries"));
    assertThat(gt.d()).isEqualTo(10);
    for (int i = 0; i < q.n(); i++) {
      float[] qi = q.row(i);
      int best = -1;
      double bestScore = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < base.n(); j++) {
        double sc = io.quarry.core.quant.kernel.VectorMath.dot(qi, base.row(j));
        if (sc > bestScore) {
          bestScore = sc;
          best = j;
        }
      }
      assertThat(gt.intRow(i)[0]).as("query %d", i).isEqualTo(best);
    }
  }

  @Test
  void judgedQueryMissingFromQueriesFileIsAnError() throws Exception {
    Path bad = work.resolve("bad-qrels.tsv");
    Files.writeString(bad, "query-id\tcorpus-id\tscore\nnope-42\t4983\t1\n");
    assertThatThrownBy(() -> new EvaluateJob().run(ctx("evaluation.qrels=" + bad, "evaluation.runId=bad")))
        .isInstanceOf(EvalInputException.class)
        .hasMessageContaining(bad + ": 1 judged queries are not in").hasMessageContaining("nope-42");
  }

  /** Light settings for the tests below: two stages, no sweeps. */
  static final String[] QUICK = {"evaluation.stages=[bm25,exact,ivfpq]", "evaluation.sweepNprobe=[]",
      "evaluation.sweepCandidates=[]", "evaluation.permutations=200"};

  static JobContext quick(String... sets) {
    List<String> o = new ArrayList<>(List.of(QUICK));
    o.addAll(List.of(sets));
    return ctx(o.toArray(String[]::new));
  }

  /** Every file under {@code dir} (relative path to its bytes). */
  static Map<String, byte[]> snapshot(Path dir) throws Exception {
    Map<String, byte[]> m = new java.util.TreeMap<>();
    try (var files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        m.put(dir.relativize(f).toString(), Files.readAllBytes(f));
      }
    }
    return m;
  }

  /**
   * Embeddings whose document ids a TREC run cannot carry (the ingest stage quarantines such ids; this simulates
   * anything that still makes writing the runs fail): every chunk again, under the doc id {@code "<id> x"}.
   */
  static Path poisonedEmbeddings() {
    Path dir = tmp.resolve("poisoned-embeddings");
    if (!Files.exists(dir)) {
      var e = spark.read().parquet(work.resolve("embeddings").toString());
      e.union(e.withColumn("doc_id", org.apache.spark.sql.functions.concat(e.col("doc_id"),
              org.apache.spark.sql.functions.lit(" x")))
          .withColumn("chunk_id", org.apache.spark.sql.functions.concat(e.col("chunk_id"),
              org.apache.spark.sql.functions.lit("x"))))
          .write().parquet(dir.toString());
    }
    return dir;
  }

  @Test
  void aFailedEvaluationLeavesThePreviousOneIntact() throws Exception {
    new EvaluateJob().run(quick("evaluation.runId=keep"));
    Path out = work.resolve("eval/keep");
    Map<String, byte[]> before = snapshot(out);
    assertThat(before).containsKeys("metrics.json", "run.trec", "report.md", "report.html", "summary.json",
        "runs/bm25.trec", "runs/exact.trec");

    assertThatThrownBy(() -> new EvaluateJob().run(quick("evaluation.runId=keep",
            "paths.embeddings=" + poisonedEmbeddings())))
        .hasMessageContaining("document id must be non-empty without whitespace");
    Map<String, byte[]> after = snapshot(out);
    assertThat(after.keySet()).isEqualTo(before.keySet());
    before.forEach((f, b) -> assertThat(after.get(f)).as(f).isEqualTo(b));
    // no partial output left beside it
    try (var names = Files.list(work.resolve("eval"))) {
      assertThat(names.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
    }
    // what a killed run leaves (SIGKILL runs no finally): a temporary directory, a previous output moved aside
    Files.createDirectories(work.resolve("eval/.keep.tmp-dead/runs"));
    Files.writeString(work.resolve("eval/.keep.tmp-dead/runs/bm25.trec"), "partial");
    Files.createDirectories(work.resolve("eval/.keep.old-dead"));
    Files.createDirectories(work.resolve("eval/.keeper.tmp-other")); // another run id's: not this run's to delete
    // a successful re-run replaces it as a whole, and deletes the leftovers of its own run id
    new EvaluateJob().run(quick("evaluation.runId=keep", "evaluation.stages=[bm25]"));
    assertThat(out.resolve("runs/exact.trec")).doesNotExist();
    assertThat(out.resolve("runs/bm25.trec")).exists();
    try (var names = Files.list(work.resolve("eval"))) {
      assertThat(names.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".keep."));
    }
    assertThat(work.resolve("eval/.keeper.tmp-other")).isDirectory();
  }

  @Test
  void theNextRunDeletesAKilledRunsTemporaryDirectoryButNotALiveOne() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    String host = io.quarry.jobs.StaleTemp.thisHost();
    long t = System.currentTimeMillis() - 10_000;
    // killed on this host (its pid is gone) vs a concurrent evaluation of the same run id, still running
    Path killed = Files.createDirectories(work.resolve("eval/.live.tmp-" + t + "-" + p.pid() + "-" + host + "-1"));
    long running = ProcessHandle.current().parent().orElseThrow().pid();
    Path live = Files.createDirectories(work.resolve("eval/.live.tmp-" + t + "-" + running + "-" + host + "-2"));
    Path liveOld = Files.createDirectories(work.resolve("eval/.live.old-" + t + "-" + running + "-" + host + "-3"));
    new EvaluateJob().run(quick("evaluation.runId=live", "evaluation.stages=[bm25]"));
    assertThat(work.resolve("eval/live/metrics.json")).exists();
    assertThat(killed).doesNotExist();
    assertThat(live).isDirectory();
    assertThat(liveOld).isDirectory();
    for (Path d : List.of(live, liveOld)) { // the "live" run's own clean-up, as it would when it ends
      Files.delete(d);
    }
  }

  @Test
  void aPreviousOutputMovedAsideByAKilledRunIsPutBack() throws Exception {
    // killed between replaceAtomically's two renames: eval/<id> is missing, its previous content is in .<id>.old-*
    Path old = Files.createDirectories(work.resolve("eval/.gone.old-1"));
    Files.writeString(old.resolve("metrics.json"), "{}");
    EvalOutputDir.cleanStale(quick(), work.resolve("eval").toString(), "gone");
    assertThat(work.resolve("eval/gone/metrics.json")).hasContent("{}");
    assertThat(old).doesNotExist();
    // with the output in place, a leftover previous output is deleted
    Files.createDirectories(work.resolve("eval/.gone.old-2"));
    EvalOutputDir.cleanStale(quick(), work.resolve("eval").toString(), "gone");
    assertThat(work.resolve("eval/.gone.old-2")).doesNotExist();
    assertThat(work.resolve("eval/gone/metrics.json")).hasContent("{}");
  }

  @Test
  void validateConfigParsesQueriesAndQrelsBeforeAnyWork() throws Exception {
    Path badQrels = tmp.resolve("malformed-qrels.tsv");
    Files.writeString(badQrels, "query-id\tcorpus-id\tscore\n1\t31715818\n");
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    java.io.PrintStream old = System.err;
    int rc;
    System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      rc = io.quarry.jobs.QuarryCli.run("validate-config", "--set", "evaluation.queries=" + tmp.resolve("nope.jsonl"),
          "--set", "evaluation.qrels=" + badQrels);
    } finally {
      System.setErr(old);
    }
    String msg = err.toString(StandardCharsets.UTF_8);
    assertThat(rc).as(msg).isEqualTo(io.quarry.jobs.QuarryCli.EXIT_USAGE);
    assertThat(msg).contains("evaluation.queries: " + tmp.resolve("nope.jsonl") + ": file not found")
        .contains("evaluation.qrels: " + badQrels + ":2");
    // the good inputs pass
    assertThat(io.quarry.jobs.QuarryCli.run("validate-config", "--set", "input.corpus=" + work,
        "--set", "evaluation.queries=" + work.resolve("queries.jsonl"),
        "--set", "evaluation.qrels=" + work.resolve("qrels.tsv")))
        .isZero();
  }

  @Test
  void pipelinePublishesOnlyAfterEvaluationAndGatePass() throws Exception {
    Path current = work.resolve("index/CURRENT");
    String published = Files.readString(current);
    new BuildIndexJob().run(ctx("segments.version=gp-1", "segments.publish=false"));
    assertThat(Files.readString(current)).isEqualTo(published);
    try {
      // baseline: this version's own evaluation, but with every per-query value perfect, so the gate must fail
      new EvaluateJob().run(quick("evaluation.runId=gp-base", "segments.version=gp-1"));
      com.fasterxml.jackson.databind.node.ObjectNode m = (com.fasterxml.jackson.databind.node.ObjectNode)
          JSON.readTree(work.resolve("eval/gp-base/metrics.json").toFile());
      for (JsonNode stage : m.get("stages")) {
        stage.get("perQuery").forEach(q -> q.fieldNames().forEachRemaining(
            k -> ((com.fasterxml.jackson.databind.node.ObjectNode) q).put(k, 1.0)));
        stage.get("metrics").fieldNames().forEachRemaining(
            k -> ((com.fasterxml.jackson.databind.node.ObjectNode) stage.get("metrics")).put(k, 1.0));
      }
      EvalReport perfect = EvalReport.fromJson("perfect", JSON.writeValueAsString(m));
      EvalReport real = EvalReport.fromJson("real", Files.readString(work.resolve("eval/gp-base/metrics.json")));

      // a failing evaluation: throws, CURRENT unchanged
      assertThatThrownBy(() -> GatedPublish.run(quick("evaluation.runId=gp", "segments.version=gp-1",
          "paths.embeddings=" + poisonedEmbeddings()), "gp-1", true, real))
          .hasMessageContaining("document id must be non-empty without whitespace");
      assertThat(Files.readString(current)).isEqualTo(published);
      // a passing gate without publishing: the evaluation lands under the run id, CURRENT unchanged
      assertThat(GatedPublish.run(quick("evaluation.runId=gp", "segments.version=gp-1"), "gp-1", false, real))
          .isZero();
      assertThat(Files.readString(current)).isEqualTo(published);
      assertThat(work.resolve("eval/gp-gp-1")).doesNotExist();
      Map<String, byte[]> passed = snapshot(work.resolve("eval/gp"));
      assertThat(passed).containsKeys("metrics.json", "comparison.json", "report.md");
      // a failing gate: exit 3, CURRENT unchanged, eval/gp byte-identical, the rejected evaluation (with its
      // comparison) kept under its own run id
      assertThat(GatedPublish.run(quick("evaluation.runId=gp", "segments.version=gp-1"), "gp-1", true, perfect))
          .isEqualTo(CompareCommand.EXIT_GATE);
      assertThat(Files.readString(current)).isEqualTo(published);
      Map<String, byte[]> afterReject = snapshot(work.resolve("eval/gp"));
      assertThat(afterReject.keySet()).isEqualTo(passed.keySet());
      passed.forEach((f, b) -> assertThat(afterReject.get(f)).as(f).isEqualTo(b));
      assertThat(work.resolve("eval/gp-gp-1/comparison.json")).exists();
      assertThat(JSON.readTree(work.resolve("eval/gp-gp-1/comparison.json").toFile()).get("passed").asBoolean())
          .isFalse();
      // --baseline gp still reads the evaluation that passed
      assertThat(CompareCommand.readBaseline(spark.sparkContext().hadoopConfiguration(),
          quick("paths.eval=" + work.resolve("eval")).config(), "gp").runId()).isEqualTo("gp-gp-1");
      // the gate passes against an equal baseline: published, and the evaluation moved to the run id
      assertThat(GatedPublish.run(quick("evaluation.runId=gp", "segments.version=gp-1"), "gp-1", true, real)).isZero();
      assertThat(Files.readString(current).trim()).isEqualTo("gp-1");
      assertThat(work.resolve("eval/gp-gp-1")).doesNotExist();
      assertThat(JSON.readTree(work.resolve("eval/gp/comparison.json").toFile()).get("passed").asBoolean()).isTrue();
    } finally {
      Files.writeString(current, published); // the other tests evaluate the version published by prepare()
    }
  }
}
