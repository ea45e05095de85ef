package io.quarry.jobs.eval;

import static org.apache.spark.sql.functions.col;

import io.quarry.core.config.EvaluationConfig;
import io.quarry.core.config.QuarryConfig;
import io.quarry.core.eval.ChunkHit;
import io.quarry.core.eval.EvalInputException;
import io.quarry.core.eval.EvalReport;
import io.quarry.core.eval.Evaluation;
import io.quarry.core.eval.ExactSearch;
import io.quarry.core.eval.LossAttribution;
import io.quarry.core.eval.MarkdownReport;
import io.quarry.core.eval.MetricSpec;
import io.quarry.core.eval.Qrels;
import io.quarry.core.eval.Queries;
import io.quarry.core.eval.StageEvaluator;
import io.quarry.core.eval.StageEvaluator.StageRun;
import io.quarry.core.eval.TrecRunFormat;
import io.quarry.core.platform.Platform;
import io.quarry.core.quant.Metric;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.segment.IndexVersion;
import io.quarry.embed.Embedder;
import io.quarry.embed.OnnxCrossEncoder;
import io.quarry.embed.RuntimePlatform;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.StageJob;
import io.quarry.jobs.build.PublishedIndex;
import io.quarry.jobs.embed.ModelShipping;
import io.quarry.report.HtmlReport;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
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
 * model; the {@code dense-exact} stage is a distributed brute-force search over the embeddings Parquet
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
    String tmp = child(c.paths().evalDir(), "." + e.runId() + ".tmp-" + Long.toHexString(System.nanoTime()));
    cleanStale(ctx, c.paths().evalDir(), e.runId());
    List<MetricSpec> metrics = Evaluation.parseMetrics(e.metrics());

    // Inputs (driver: queries and qrels are small).
    Inputs in = Inputs.read(ctx, e);
    byte[] qBytes = in.queryBytes();
    byte[] rBytes = in.qrelsBytes();
    Map<String, String> texts = in.texts();
    Qrels qrels = in.qrels();
    // The cross-encoder is loaded before any search runs: a missing or unloadable model fails here, naming the file.
    OnnxCrossEncoder crossEncoder = null;
    if (e.hasCrossEncoder() && e.stages().contains("cross-encoder")) {
      crossEncoder = new OnnxCrossEncoder(ModelShipping.localDir(ctx, e.crossEncoder(), "evaluation.crossEncoder"),
          e.crossEncoderMaxLength());
    }
    EvaluatedIndex index = null;
    try {
      List<String> qids = new ArrayList<>(qrels.queryIds());
      List<String> qtexts = new ArrayList<>();
      for (String q : qids) {
        qtexts.add(texts.get(q));
      }

      Embedder embedder = Embedder.open(c.embedding());
      float[][] qv = embedder.embedQueries(qtexts);
      List<StageEvaluator.Query> queries = new ArrayList<>();
      Map<String, float[]> byText = new HashMap<>();
      for (int i = 0; i < qids.size(); i++) {
        queries.add(new StageEvaluator.Query(qids.get(i), qtexts.get(i), qv[i]));
        byText.put(qtexts.get(i), qv[i]);
      }

      // The published index version, opened as the serving jar opens it.
      IndexVersion version = null;
      HybridSearcher searcher = null;
      List<String> notes = new ArrayList<>();
      boolean needIndex = e.stages().stream().anyMatch(s -> !s.equals("dense-exact"));
      if (needIndex) {
        // segments.version names the version to evaluate (e.g. a freshly built, not yet published one, before the
        // gate); unset, the published one (CURRENT).
        index = EvaluatedIndex.open(ctx, embedder);
        version = index.version();
        searcher = index.searcher(byText, embedder, crossEncoder);
      }
      StageEvaluator se = new StageEvaluator(searcher, queries, e);
      Metric metric = Metric.parse(version != null ? version.manifest().metric() : c.quantizer().metric());

      // Stages, in pipeline order.
      Map<String, StageRun> runs = new LinkedHashMap<>();
      StageRun exact = null;
      boolean wantExact = e.stages().contains("dense-exact") || e.stages().contains("dense-ivfpq");
      if (wantExact) {
        long t0 = System.nanoTime();
        exact = se.exactStage(exactSearch(ctx, qv, e.candidates(), metric), metric.name().toLowerCase(Locale.ROOT));
        LOG.info("dense-exact: {} queries in {} ms", qids.size(), (System.nanoTime() - t0) / 1_000_000);
      }
      for (String stage : EvaluationConfig.STAGES) {
        if (!e.stages().contains(stage)) {
          continue;
        }
        if (stage.equals("hybrid")) { // embedding.extraModels: each extra dense field's own stage, before the hybrid
          se.fieldStages().forEach(r -> runs.put(r.name(), r));
        }
        if (stage.equals("dense-exact")) {
          runs.put(stage, exact);
        } else if (se.canRun(stage)) {
          long t0 = System.nanoTime();
          runs.put(stage, se.run(stage));
          LOG.info("{}: {} queries in {} ms", stage, qids.size(), (System.nanoTime() - t0) / 1_000_000);
        }
      }
      if (runs.isEmpty()) {
        throw new IllegalStateException("no evaluation stage could run: " + se.notes());
      }
      String finalStage = null;
      for (String s : runs.keySet()) {
        finalStage = s;
      }

      // Metrics and runs.
      List<EvalReport.StageResult> results = new ArrayList<>();
      Map<String, Evaluation> evals = new LinkedHashMap<>();
      for (StageRun r : runs.values()) {
        Evaluation ev = Evaluation.of(r.docs(), qrels, metrics);
        evals.put(r.name(), ev);
        String runFile = "runs/" + r.name() + ".trec";
        writeRun(ctx, child(tmp, runFile), r, "quarry-" + r.name());
        Double ann = r.name().equals("dense-ivfpq") && exact != null
            ? StageEvaluator.annRecall(r, exact, e.annRecallK()) : null;
        results.add(new EvalReport.StageResult(r.name(), r.description(), runFile, ev.queryCount(),
            ev.emptyRankings(), ev.meansByName(), ann, StageEvaluator.percentile(r.latencyMs(), 50),
            StageEvaluator.percentile(r.latencyMs(), 95), ev.perQueryByName()));
      }
      writeRun(ctx, child(tmp, "run.trec"), runs.get(finalStage), "quarry-" + finalStage);

      List<EvalReport.SweepPoint> sweeps = se.sweeps(qrels, metrics, exact);
      notes.addAll(se.notes());
      int lossK = lossCutoff(metrics);
      List<StageRun> before = switch (finalStage) {
        case "hybrid" -> java.util.Arrays.asList(runs.get("bm25"), runs.get("rescore"));
        case "cross-encoder" -> java.util.Arrays.asList(runs.containsKey("hybrid") ? runs.get("hybrid")
            : runs.get("rescore"));
        case "rescore" -> java.util.Arrays.asList(runs.get("dense-ivfpq"));
        default -> List.of();
      };
      LossAttribution.Summary loss = se.lossAttribution(qrels, lossK, runs.get(finalStage), exact,
          runs.get("bm25"), runs.get("dense-ivfpq"), before);

      Map<String, Object> params = new LinkedHashMap<>();
      params.put("k", e.k());
      params.put("nprobe", e.nprobe());
      params.put("candidates", e.candidates());
      if (runs.containsKey("hybrid")) {
        params.put("fusion", runs.get("hybrid").description());
      }
      if (version != null && version.manifest().search() != null) {
        params.put("tuned", version.manifest().search());
      }
      params.put("metric", metric.name().toLowerCase(Locale.ROOT));
      params.put("annRecallK", e.annRecallK());
      if (crossEncoder != null) {
        params.put("crossEncoder", e.crossEncoder());
        params.put("crossEncoderDepth", e.crossEncoderDepth());
        params.put("crossEncoderMaxLength", e.crossEncoderMaxLength());
      }
      EvalReport report = new EvalReport(EvalReport.SCHEMA_VERSION, e.runId(), ctx.configHash(), embedder.modelId(),
          version == null ? null : version.manifest().version(),
          version == null ? c.quantizer().spec() : version.manifest().indexSpec(),
          new EvalReport.Dataset(e.format(), e.queries(), sha256(qBytes), e.qrelsPath(), sha256(rBytes),
              qrels.queryIds().size(), qrels.size()),
          params, results, finalStage, sweeps, loss, notes)
          .withPlatforms(passagePlatforms(ctx, version), RuntimePlatform.current())
          .withGainAndTuning(io.quarry.core.eval.FinalGains.of(results, finalStage, metrics.get(0).name(), e.permutations(), e.seed()),
              version == null ? null : tuning(version));
      ctx.writeString(child(tmp, "metrics.json"), report.toJson());
      String md = MarkdownReport.render(report);
      ctx.writeString(child(tmp, "report.md"), md);
      ctx.writeString(child(tmp, "report.html"), HtmlReport.render(report));
      writePerQuery(ctx, child(tmp, "per_query.parquet"), results, metrics);

      JobSummary s = new JobSummary(name());
      s.put("queries", qids.size()).put("judgments", qrels.size()).put("stages", new ArrayList<>(runs.keySet()))
          .put("finalStage", finalStage).put("metrics", evals.get(finalStage).meansByName())
          .put("output", out).put("report", child(out, "report.md"));
      ctx.writeString(child(tmp, "summary.json"), s.toJson());
      replaceAtomically(ctx, tmp, out);
      System.out.println("Evaluation report: " + child(out, "report.md") + " and " + child(out, "report.html")
          + "  (metrics: " + child(out, "metrics.json") + ", run: " + child(out, "run.trec") + ")");
      return s;
    } finally {
      try {
        ctx.deleteIfExists(tmp); // failed before the swap: the partial output goes, the previous one stays
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
  }

  /**
   * Removes what a killed evaluation of {@code runId} left beside its output: every {@code .<runId>.tmp-*}
   * directory, and every {@code .<runId>.old-*} ({@link #replaceAtomically}'s previous output), which is first moved
   * back to {@code <runId>} when that is missing (killed between the two renames). Only this run id's leftovers: one
   * evaluation per run id at a time.
   *
   * @throws IOException when the evaluation directory cannot be listed or a leftover not removed
   */
  static void cleanStale(JobContext ctx, String evalDir, String runId) throws IOException {
    org.apache.hadoop.fs.FileSystem fs = ctx.fs(evalDir);
    org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(evalDir);
    org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path(dir, runId);
    for (String kind : List.of("tmp", "old")) {
      org.apache.hadoop.fs.FileStatus[] found = fs.globStatus(new org.apache.hadoop.fs.Path(dir,
          "." + runId + "." + kind + "-*"));
      if (found == null) {
        continue;
      }
      // newest first: when the output is missing, the newest previous output is the one to put back
      java.util.Arrays.sort(found, java.util.Comparator.comparingLong(
          org.apache.hadoop.fs.FileStatus::getModificationTime).reversed());
      for (org.apache.hadoop.fs.FileStatus f : found) {
        if (kind.equals("old") && !fs.exists(out) && fs.rename(f.getPath(), out)) {
          LOG.warn("evaluate: {} was missing (a run was killed while replacing it): restored from {}", out,
              f.getPath());
          continue;
        }
        fs.delete(f.getPath(), true);
        LOG.info("evaluate: deleted {} left by a killed run of {}", f.getPath(), runId);
      }
    }
  }

  /**
   * Moves the complete directory {@code tmp} to {@code out}: the previous {@code out}, if any, is first renamed
   * aside, then {@code tmp} renamed into place, then the previous one deleted. A failed rename puts the previous
   * one back. Renames are atomic on HDFS and local filesystems; on S3 they are copies, so a reader may briefly see
   * no {@code out} but never a partial one.
   *
   * @throws IOException when a rename fails (the previous output is restored)
   */
  static void replaceAtomically(JobContext ctx, String tmp, String out) throws IOException {
    org.apache.hadoop.fs.FileSystem fs = ctx.fs(out);
    org.apache.hadoop.fs.Path o = new org.apache.hadoop.fs.Path(out);
    org.apache.hadoop.fs.Path old = new org.apache.hadoop.fs.Path(o.getParent(),
        "." + o.getName() + ".old-" + Long.toHexString(System.nanoTime()));
    boolean hadOld = fs.exists(o);
    if (hadOld && !fs.rename(o, old)) {
      throw new IOException("cannot move the previous evaluation " + out + " aside to " + old);
    }
    if (!fs.rename(new org.apache.hadoop.fs.Path(tmp), o)) {
      if (hadOld) {
        fs.rename(old, o);
      }
      throw new IOException("cannot move the new evaluation " + tmp + " to " + out + " (previous one kept)");
    }
    if (hadOld) {
      fs.delete(old, true);
    }
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

  /** The cutoff of "final top-k" for loss attribution: the first metric's cutoff, else 10. */
  static int lossCutoff(List<MetricSpec> metrics) {
    for (MetricSpec m : metrics) {
      if (m.k() > 0) {
        return m.k();
      }
    }
    return 10;
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
  static List<List<ChunkHit>> exactSearch(JobContext ctx, float[][] qv, int n, Metric metric) {
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
      List<MetricSpec> metrics) {
    List<StructField> fields = new ArrayList<>();
    fields.add(DataTypes.createStructField("stage", DataTypes.StringType, false));
    fields.add(DataTypes.createStructField("query_id", DataTypes.StringType, false));
    for (MetricSpec m : metrics) {
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
   * The evaluation inputs as read from {@code evaluation.queries} and {@code evaluation.qrels} (raw bytes kept for the
   * dataset checksums).
   */
  record Inputs(byte[] queryBytes, byte[] qrelsBytes, Map<String, String> texts, Qrels qrels) {
    /**
     * Reads and parses both files.
     *
     * @throws EvalInputException naming the file: missing, malformed, or judged queries absent from the queries file
     */
    static Inputs read(JobContext ctx, EvaluationConfig e) throws IOException {
      return read(ctx.hadoopConf(), e.format(), e.queries(), e.qrelsPath());
    }

    /** {@link #read(JobContext, EvaluationConfig)} without Spark (any Hadoop filesystem of {@code conf}). */
    static Inputs read(org.apache.hadoop.conf.Configuration conf, EvaluationConfig e) throws IOException {
      return read(conf, e.format(), e.queries(), e.qrelsPath());
    }

    /** Reads and parses a queries file and a qrels file of {@code format} (beir, trec) on any Hadoop filesystem. */
    static Inputs read(org.apache.hadoop.conf.Configuration conf, String format, String queriesPath, String qrelsPath)
        throws IOException {
      byte[] qBytes = readBytes(conf, queriesPath);
      byte[] rBytes = readBytes(conf, qrelsPath);
      Map<String, String> texts = Queries.read(format, queriesPath, reader(qBytes));
      Qrels qrels = Qrels.read(format, qrelsPath, reader(rBytes));
      checkJudgedQueriesExist(queriesPath, qrelsPath, texts, qrels);
      return new Inputs(qBytes, rBytes, texts, qrels);
    }

    private static void checkJudgedQueriesExist(String queriesPath, String qrelsPath, Map<String, String> texts,
        Qrels qrels) {
      List<String> missing = new ArrayList<>();
      for (String qid : qrels.queryIds()) {
        if (!texts.containsKey(qid)) {
          missing.add(qid);
        }
      }
      if (!missing.isEmpty()) {
        throw new EvalInputException(qrelsPath, 0, missing.size() + " judged queries are not in " + queriesPath
            + ", e.g. " + missing.subList(0, Math.min(5, missing.size())));
      }
    }
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
    return checkPair(conf, "evaluation", e.format(), e.queries(), e.qrelsPath());
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
    return checkPair(conf, "tuning", TuneJob.format(c), TuneJob.queriesPath(c), t.qrels());
  }

  private static List<String> checkPair(org.apache.hadoop.conf.Configuration conf, String section, String format,
      String queriesPath, String qrelsPath) {
    List<String> problems = new ArrayList<>();
    Map<String, String> texts = null;
    Qrels qrels = null;
    try {
      texts = Queries.read(format, queriesPath, reader(readBytes(conf, queriesPath)));
    } catch (IOException | RuntimeException ex) {
      problems.add(section + ".queries: " + ex.getMessage());
    }
    try {
      qrels = Qrels.read(format, qrelsPath, reader(readBytes(conf, qrelsPath)));
    } catch (IOException | RuntimeException ex) {
      problems.add(section + ".qrels: " + ex.getMessage());
    }
    if (texts != null && qrels != null) {
      try {
        Inputs.checkJudgedQueriesExist(queriesPath, qrelsPath, texts, qrels);
      } catch (RuntimeException ex) {
        problems.add(section + ".qrels: " + ex.getMessage());
      }
      if (qrels.queryIds().isEmpty()) {
        problems.add(section + ".qrels: " + qrelsPath + ": no judged query");
      }
    }
    return problems;
  }

  static String child(String parent, String name) {
    return parent.endsWith("/") ? parent + name : parent + "/" + name;
  }

  private static byte[] readBytes(org.apache.hadoop.conf.Configuration conf, String path) throws IOException {
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
    org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(conf);
    if (!fs.exists(p)) {
      throw new EvalInputException(path, 0, "file not found");
    }
    try (InputStream in = fs.open(p)) {
      return in.readAllBytes();
    }
  }

  private static BufferedReader reader(byte[] bytes) {
    return new BufferedReader(new InputStreamReader(new ByteArrayInputStream(bytes), StandardCharsets.UTF_8));
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException ex) {
      throw new IllegalStateException(ex);
    }
  }
}
