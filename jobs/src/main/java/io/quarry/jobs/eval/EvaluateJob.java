package io.quarry.jobs.eval;

import static org.apache.spark.sql.functions.col;

import io.quarry.core.config.EvaluationConfig;
import io.quarry.core.config.QuarryConfig;
import io.quarry.core.eval.ChunkHit;
import io.quarry.core.eval.EvalReport;
import io.quarry.core.eval.Evaluation;
import io.quarry.core.eval.EvaluationPlan;
import io.quarry.core.eval.ExactSearch;
import io.quarry.core.eval.FinalGains;
import io.quarry.core.eval.LossAttribution;
import io.quarry.core.eval.MarkdownReport;
import io.quarry.core.eval.Measure;
import io.quarry.core.eval.StageEvaluator;
import io.quarry.core.eval.StageEvaluator.StageRun;
import io.quarry.core.eval.TrecRunFormat;
import io.quarry.core.platform.Platform;
import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.search.Stages;
import io.quarry.core.segment.IndexVersion;
import io.quarry.embed.Embedder;
import io.quarry.embed.OnnxCrossEncoder;
import io.quarry.embed.RuntimePlatform;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.StageJob;
import io.quarry.jobs.embed.ModelShipping;
import io.quarry.report.HtmlReport;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 5: evaluates the published index version on labeled queries and writes, under
 * {@code <paths.eval>/<evaluation.runId>/}: {@code metrics.json} ({@link EvalReport}), {@code report.md},
 * {@code report.html}, {@code run.trec} (the final stage's TREC run), {@code runs/<stage>.trec} (one per stage) and
 * {@code per_query.parquet} (stage, query id, one column per metric).
 *
 * <p>Data flow: queries and qrels are read on the driver (small); queries are embedded once with the configured
 * model; the {@code exact} stage is a distributed brute-force search over the embeddings Parquet
 * ({@code mapPartitions} of {@link ExactSearch}, partial top-n merged on the driver); the index stages run on the
 * driver through {@link HybridSearcher}, the serving jar's search code, over a local copy of the version. All
 * metric and report code is in {@code io.quarry.core.eval}.
 */
public final class EvaluateJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(EvaluateJob.class);

  @Override
  public String name() {
    return "evaluate";
  }

  @Override
  public JobSummary run(JobContext ctx) throws Exception {
    QuarryConfig c = ctx.config();
    EvaluationConfig e = c.evaluation();
    String out = child(c.paths().evalDir(), e.runId());
    // Everything is written to a hidden temporary directory beside out and moved into place only when complete:
    // a failure at any point leaves the previous evaluation of this run id untouched.
    long runStart = System.currentTimeMillis();
    EvalOutputDir.cleanStale(ctx, c.paths().evalDir(), e.runId(), runStart);
    String tmp = child(c.paths().evalDir(), "." + e.runId() + ".tmp-" + io.quarry.jobs.StaleTemp.suffix());
    EvalInputs in = EvalInputs.read(ctx, e); // driver: queries and qrels are small
    // The cross-encoder is loaded before any search runs: a missing or unloadable model fails here, naming the file.
    OnnxCrossEncoder crossEncoder = openCrossEncoder(ctx, e);
    EvaluatedIndex index = null;
    try {
      Embedder embedder = Embedder.open(c.embedding());
      EmbeddedQueries qs = EmbeddedQueries.of(embedder, in);
      // The index version (segments.version, else the published one), opened as the serving jar opens it.
      index = EvaluationPlan.needsIndex(e) ? EvaluatedIndex.open(ctx, embedder) : null;
      IndexVersion version = index == null ? null : index.version();
      StageEvaluator se = new StageEvaluator(index == null ? null
          : index.searcher(qs.byText(), embedder, crossEncoder), qs.queries(), e);
      DistanceMetric metric =
          DistanceMetric.parse(version != null ? version.manifest().metric() : c.quantizer().metric());
      StageRun exact = EvaluationPlan.needsExact(e) ? exactStage(ctx, se, qs, e.candidates(), metric) : null;
      Map<String, StageRun> runs = runStages(se, e, exact, qs.size());
      EvalReport report = measure(ctx, tmp, se, runs, exact, in, embedder, version, metric, crossEncoder != null);
      JobSummary s = writeOutputs(ctx, tmp, report, runs, in);
      s.put("output", out).put("report", child(out, "report.md"));
      ctx.writeString(child(tmp, "summary.json"), s.toJson());
      EvalOutputDir.replaceAtomically(ctx, tmp, out);
      System.out.println("Evaluation report: " + child(out, "report.md") + " and " + child(out, "report.html")
          + "  (metrics: " + child(out, "metrics.json") + ", run: " + child(out, "run.trec") + ")");
      return s;
    } finally {
      cleanUp(ctx, tmp, index, crossEncoder);
    }
  }

  /** After success or failure: the partial output goes (the previous one stays), the index and model close. */
  private static void cleanUp(JobContext ctx, String tmp, EvaluatedIndex index, OnnxCrossEncoder crossEncoder)
      throws IOException {
    try {
      ctx.deleteIfExists(tmp);
    } catch (IOException cleanup) {
      LOG.warn("evaluate: cannot delete the partial output {}: {}", tmp, cleanup.toString());
    }
    if (index != null) {
      index.close();
    }
    if (crossEncoder != null) {
      crossEncoder.close();
    }
  }

  private static OnnxCrossEncoder openCrossEncoder(JobContext ctx, EvaluationConfig e) throws IOException {
    if (!e.hasCrossEncoder() || !e.stages().contains(Stages.CROSS_ENCODER)) {
      return null;
    }
    return new OnnxCrossEncoder(ModelShipping.localDir(ctx, e.crossEncoder(), "evaluation.crossEncoder"),
        e.crossEncoderMaxLength());
  }

  /** The judged queries, embedded once with the configured model (input order = the qrels' query order). */
  record EmbeddedQueries(List<StageEvaluator.Query> queries, float[][] vectors, Map<String, float[]> byText) {
    static EmbeddedQueries of(Embedder embedder, EvalInputs in) throws IOException {
      List<String> qids = new ArrayList<>(in.qrels().queryIds());
      List<String> texts = new ArrayList<>();
      for (String q : qids) {
        texts.add(in.texts().get(q));
      }
      float[][] qv = embedder.embedQueries(texts);
      List<StageEvaluator.Query> queries = new ArrayList<>();
      Map<String, float[]> byText = new HashMap<>();
      for (int i = 0; i < qids.size(); i++) {
        queries.add(new StageEvaluator.Query(qids.get(i), texts.get(i), qv[i]));
        byText.put(texts.get(i), qv[i]);
      }
      return new EmbeddedQueries(queries, qv, byText);
    }

    int size() {
      return queries.size();
    }
  }

  /** The {@code exact} stage: brute-force search over the embeddings Parquet, on Spark. */
  private static StageRun exactStage(JobContext ctx, StageEvaluator se, EmbeddedQueries qs, int candidates,
      DistanceMetric metric) {
    long t0 = System.nanoTime();
    StageRun exact = se.exactStage(exactSearch(ctx, qs.vectors(), candidates, metric),
        metric.name().toLowerCase(Locale.ROOT));
    LOG.info("{}: {} queries in {} ms", Stages.EXACT, qs.size(), (System.nanoTime() - t0) / 1_000_000);
    return exact;
  }

  /** Runs the configured stages in pipeline order; a stage the index cannot run is skipped with a note. */
  private static Map<String, StageRun> runStages(StageEvaluator se, EvaluationConfig e, StageRun exact,
      int queries) throws IOException {
    Map<String, StageRun> runs = new LinkedHashMap<>();
    for (String stage : EvaluationPlan.order(e)) {
      if (stage.equals(Stages.HYBRID)) { // embedding.extraModels: each extra dense field's own stage, before it
        se.fieldStages().forEach(r -> runs.put(r.name(), r));
      }
      if (stage.equals(Stages.EXACT)) {
        runs.put(stage, exact);
      } else if (se.canRun(stage)) {
        long t0 = System.nanoTime();
        runs.put(stage, se.run(stage));
        LOG.info("{}: {} queries in {} ms", stage, queries, (System.nanoTime() - t0) / 1_000_000);
      }
    }
    if (runs.isEmpty()) {
      throw new IllegalStateException("no evaluation stage could run: " + se.notes());
    }
    return runs;
  }

  /** Evaluates every run, writes the run files, sweeps, attributes losses and assembles {@code metrics.json}. */
  private static EvalReport measure(JobContext ctx, String tmp, StageEvaluator se, Map<String, StageRun> runs,
      StageRun exact, EvalInputs in, Embedder embedder, IndexVersion version, DistanceMetric metric,
      boolean crossEncoder) throws IOException {
    EvaluationConfig e = ctx.config().evaluation();
    List<Measure> metrics = Evaluation.parseMetrics(e.metrics());
    String finalStage = EvaluationPlan.finalStage(runs);
    List<EvalReport.StageResult> results = new ArrayList<>();
    for (StageRun r : runs.values()) {
      results.add(EvaluationPlan.result(r, Evaluation.of(r.docs(), in.qrels(), metrics), exact, e.annRecallK()));
      writeRun(ctx, child(tmp, EvaluationPlan.runFile(r.name())), r, "quarry-" + r.name());
    }
    writeRun(ctx, child(tmp, "run.trec"), runs.get(finalStage), "quarry-" + finalStage);
    List<EvalReport.SweepPoint> sweeps = se.sweeps(in.qrels(), metrics, exact);
    List<String> notes = new ArrayList<>(se.notes());
    LossAttribution.Summary loss = EvaluationPlan.loss(se, in.qrels(), EvaluationPlan.lossCutoff(metrics), runs,
        exact);
    String metricName = metric.name().toLowerCase(Locale.ROOT);
    return new EvalReport(EvalReport.SCHEMA_VERSION, e.runId(), ctx.configHash(), embedder.modelId(),
        version == null ? null : version.manifest().version(),
        version == null ? ctx.config().quantizer().spec() : version.manifest().indexSpec(),
        new EvalReport.Dataset(e.format(), e.queries(), sha256(in.queryBytes()), e.qrelsPath(),
            sha256(in.qrelsBytes()), in.qrels().queryIds().size(), in.qrels().size()),
        EvaluationPlan.parameters(e, runs, version == null ? null : version.manifest(), metricName, crossEncoder),
        results, finalStage, sweeps, loss, notes)
        .withPlatforms(passagePlatforms(ctx, version), RuntimePlatform.current())
        .withGainAndTuning(FinalGains.of(results, finalStage, metrics.get(0).name(), e.permutations(), e.seed()),
            version == null ? null : tuning(version));
  }

  /** Writes metrics.json, the reports and per_query.parquet into {@code tmp}; the summary of the run. */
  private static JobSummary writeOutputs(JobContext ctx, String tmp, EvalReport report, Map<String, StageRun> runs,
      EvalInputs in) throws IOException {
    List<Measure> metrics = Evaluation.parseMetrics(ctx.config().evaluation().metrics());
    ctx.writeString(child(tmp, "metrics.json"), report.toJson());
    ctx.writeString(child(tmp, "report.md"), MarkdownReport.render(report));
    ctx.writeString(child(tmp, "report.html"), HtmlReport.render(report));
    writePerQuery(ctx, child(tmp, "per_query.parquet"), report.stages(), metrics);
    JobSummary s = new JobSummary("evaluate");
    s.put("queries", in.qrels().queryIds().size()).put("judgments", in.qrels().size())
        .put("stages", EvaluationPlan.names(runs)).put("finalStage", report.finalStage())
        .put("metrics", report.stage(report.finalStage()).metrics());
    return s;
  }

  /** The tuning the version carries ({@code tuning.json} beside its manifest), or null if it was not tuned. */
  static EvalReport.Tuning tuning(IndexVersion version) throws IOException {
    io.quarry.core.eval.FusionTuner.Result t = TuneJob.read(version.dir());
    if (t == null || t.chosen() == null || version.manifest().search() == null) {
      return null;
    }
    var c = t.chosen();
    return new EvalReport.Tuning(t.qrels() + " (" + t.queries() + " queries)", t.objective(),
        c.fusion() + ", nprobe " + c.nprobe() + ", depth " + c.depth(), c.value(), t.curve(), t.flatRange(),
        t.singleStages());
  }

  /**
   * The processor kinds and ONNX Runtime version that embedded the chunks: from the index manifest, else from the
   * embeddings' {@code _model.json}; null when neither records them (outputs of older versions).
   */
  static List<Platform> passagePlatforms(JobContext ctx, IndexVersion version) {
    if (version != null && version.manifest().model().platforms() != null) {
      return version.manifest().model().platforms();
    }
    String path = child(ctx.config().paths().embeddingsDir(), "_model.json");
    try {
      if (!ctx.exists(path)) {
        return null;
      }
      com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
      com.fasterxml.jackson.databind.JsonNode p = json.readTree(ctx.readString(path)).path("platforms");
      return p.isArray() ? Platform.distinct(List.of(json.treeToValue(p, Platform[].class))) : null;
    } catch (IOException | RuntimeException ex) {
      LOG.warn("evaluate: cannot read the embedding platforms from {}: {}", path, ex.toString());
      return null;
    }
  }

  /**
   * Exact top-n search of every query over the embeddings Parquet ({@code chunk_id}, {@code doc_id},
   * {@code vector}): each partition scores its vectors against all (broadcast) queries, partial top-n lists are
   * merged on the driver. Deterministic: ties are broken by chunk id.
   */
  static List<List<ChunkHit>> exactSearch(JobContext ctx, float[][] qv, int n, DistanceMetric metric) {
    String dir = ctx.config().paths().embeddingsDir();
    int dim = qv.length == 0 ? 0 : qv[0].length;
    // Rows the build stage quarantines (no vector, wrong dimension) are not searchable there either: skip them.
    Dataset<Row> emb = ctx.spark().read().option("pathGlobFilter", "*.parquet").parquet(dir)
        .select(col("chunk_id").cast("string"), col("doc_id").cast("string"), col("vector"))
        .where(col("vector").isNotNull().and(org.apache.spark.sql.functions.size(col("vector")).equalTo(dim))
            .and(col("chunk_id").isNotNull()).and(col("doc_id").isNotNull()));
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    Broadcast<float[][]> b = jsc.broadcast(qv);
    try {
      ExactSearch merged = emb.javaRDD().mapPartitions((Iterator<Row> it) -> {
        ExactSearch s = new ExactSearch(b.value(), n, metric);
        while (it.hasNext()) {
          Row r = it.next();
          List<Object> v = r.getList(2);
          float[] x = new float[v.size()];
          for (int i = 0; i < x.length; i++) {
            x[i] = ((Number) v.get(i)).floatValue();
          }
          s.offer(r.getString(0), r.getString(1), x);
        }
        return List.of(s).iterator();
      }).fold(new ExactSearch(qv, n, metric), ExactSearch::merge);
      return merged.results();
    } finally {
      b.destroy();
    }
  }

  private static void writeRun(JobContext ctx, String path, StageRun r, String tag) throws IOException {
    try (Writer w = new OutputStreamWriter(ctx.create(path), StandardCharsets.UTF_8)) {
      TrecRunFormat.write(r.docs(), tag, w);
    }
  }

  /** Column name of a metric in per_query.parquet: {@code nDCG@10} becomes {@code ndcg_10}. */
  static String column(String metric) {
    return metric.toLowerCase(Locale.ROOT).replace('@', '_');
  }

  private static void writePerQuery(JobContext ctx, String path, List<EvalReport.StageResult> results,
      List<Measure> metrics) {
    List<StructField> fields = new ArrayList<>();
    fields.add(DataTypes.createStructField("stage", DataTypes.StringType, false));
    fields.add(DataTypes.createStructField("query_id", DataTypes.StringType, false));
    for (Measure m : metrics) {
      fields.add(DataTypes.createStructField(column(m.name()), DataTypes.DoubleType, false));
    }
    List<Row> rows = new ArrayList<>();
    for (EvalReport.StageResult s : results) {
      s.perQuery().forEach((q, vals) -> {
        Object[] row = new Object[2 + metrics.size()];
        row[0] = s.name();
        row[1] = q;
        for (int i = 0; i < metrics.size(); i++) {
          row[2 + i] = vals.get(metrics.get(i).name());
        }
        rows.add(RowFactory.create(row));
      });
    }
    ctx.spark().createDataFrame(rows, DataTypes.createStructType(fields)).coalesce(1).write().mode("overwrite")
        .parquet(path);
  }

  /**
   * Checks the evaluation inputs before any work (what {@code validate-config} and the first step of
   * {@code pipeline} do): both files exist and parse, every judged query is in the queries file, and there is at
   * least one judged query.
   *
   * @param conf Hadoop configuration for the files' filesystems
   * @return every problem found, each prefixed with the config key ({@code evaluation.queries: <file>:<line>: ...});
   *     empty when the inputs are usable
   */
  public static List<String> checkInputs(org.apache.hadoop.conf.Configuration conf, EvaluationConfig e) {
    return EvalInputs.check(conf, "evaluation", e.format(), e.queries(), e.qrelsPath());
  }

  /**
   * {@link #checkInputs} for the training split of {@code quarry tune} ({@code tuning.queries}/{@code tuning.qrels},
   * defaults from {@code evaluation}); empty when no tuning is configured.
   */
  public static List<String> checkTuningInputs(org.apache.hadoop.conf.Configuration conf, QuarryConfig c) {
    io.quarry.core.config.TuningConfig t = c.tuning();
    if (!t.enabled()) {
      return List.of();
    }
    return EvalInputs.check(conf, "tuning", TuneJob.format(c), TuneJob.queriesPath(c), t.qrels());
  }

  static String child(String parent, String name) {
    return parent.endsWith("/") ? parent + name : parent + "/" + name;
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException ex) {
      throw new IllegalStateException(ex);
    }
  }
}
