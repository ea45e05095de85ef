package io.quarry.jobs.embed;

import static org.apache.spark.sql.functions.col;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.quarry.core.chunk.Chunk;
import io.quarry.core.config.EmbeddingConfig;
import io.quarry.core.config.PathsConfig;
import io.quarry.core.config.QuarryConfig;
import io.quarry.embed.ModelFiles;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.StageJob;
import io.quarry.jobs.chunk.ChunkJob;
import java.io.ByteArrayInputStream;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Throughput of the embed stage against raw ONNX Runtime, in the same run: the first {@code limit} chunks (by
 * chunk id) of the chunk dataset are embedded (1) by {@link EmbedJob} on Spark and (2) by a bare ONNX Runtime loop in
 * the driver JVM: the same model file, batch size, intra-op threads and number of concurrent callers as Spark has
 * task slots, on the same texts pre-tokenized and grouped/sorted by length exactly as the job does; only
 * {@code session.run} is timed. Reports chunks/s, tokens/s and the ratio job / raw ({@code summary.json} under
 * {@code <work>/bench-embed}).
 */
public final class EmbedBenchmark implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(EmbedBenchmark.class);
  private final int limit;

  /** @param limit chunks to embed (0 = all) */
  public EmbedBenchmark(int limit) {
    this.limit = limit;
  }

  @Override
  public String name() {
    return "bench-embed";
  }

  @Override
  public JobSummary run(JobContext ctx) throws Exception {
    QuarryConfig cfg = ctx.config();
    String benchDir = child(cfg.paths().work(), "bench-embed");
    String chunksDir = child(benchDir, "chunks");
    Dataset<Row> all = ctx.spark().read().option("pathGlobFilter", "*.parquet").parquet(cfg.paths().chunksDir());
    Dataset<Row> subset = all.orderBy(col("chunk_id"));
    if (limit > 0) {
      subset = subset.limit(limit);
    }
    subset.repartition(ctx.spark().sparkContext().defaultParallelism()).write().mode("overwrite")
        .parquet(chunksDir);
    PathsConfig p = cfg.paths();
    PathsConfig bp = new PathsConfig(p.work(), chunksDir, child(benchDir, "embeddings"), p.quantizer(), p.index(),
        p.eval(), p.quarantine());
    EmbeddingConfig e = cfg.embedding(); // without embedding.reuseFrom: the benchmark embeds every chunk
    EmbeddingConfig noReuse = new EmbeddingConfig(e.model(), e.modelPath(), e.batchSize(), e.maxSeqLength(),
        e.intraOpThreads());
    QuarryConfig bc = new QuarryConfig(cfg.schemaVersion(), bp, cfg.input(), cfg.chunking(), noReuse,
        cfg.quantizer(), cfg.segments(), cfg.evaluation(), cfg.tuning(), cfg.spark());
    JobContext bctx = new JobContext(ctx.spark(), bc, ctx.configJson(), ctx.configHash());

    int slots = ctx.spark().sparkContext().defaultParallelism();
    List<Row> rows = ctx.spark().read().parquet(chunksDir).select("title", "text").collectAsList();
    List<String> texts = new ArrayList<>(rows.size());
    for (Row r : rows) {
      texts.add(Chunk.embeddingText(r.getString(0), r.getString(1), cfg.chunking().prependTitle()));
    }
    JobSummary s = new JobSummary(name());
    s.put("model", cfg.embedding().model()).put("chunks", texts.size()).put("batchSize", cfg.embedding().batchSize())
        .put("intraOpThreads", cfg.embedding().intraOpThreads()).put("taskSlots", slots)
        .put("sparkMaster", ctx.spark().sparkContext().master());

    double[] raw = rawOrt(cfg.embedding(), texts, slots, Math.max(cfg.embedding().batchSize() * 32, 512));
    s.put("raw.tokens", (long) raw[1]).put("raw.seconds", round(raw[0]))
        .put("raw.chunksPerSecond", round(texts.size() / raw[0])).put("raw.tokensPerSecond", round(raw[1] / raw[0]));

    JobSummary job = new EmbedJob().run(bctx);
    double jobSecs = (Double) job.get("embedSeconds");
    long jobTokens = (Long) job.get("tokens");
    s.put("job.tokens", jobTokens).put("job.seconds", jobSecs)
        .put("job.chunksPerSecond", round(texts.size() / jobSecs)).put("job.tokensPerSecond", round(jobTokens / jobSecs))
        .put("ratio", round((texts.size() / jobSecs) / (texts.size() / raw[0])));
    ctx.writeString(ChunkJob.summaryPath(benchDir), s.toJson());
    LOG.info("bench-embed: job {} chunks/s, raw ONNX Runtime {} chunks/s, ratio {}", s.get("job.chunksPerSecond"),
        s.get("raw.chunksPerSecond"), s.get("ratio"));
    return s;
  }

  /**
   * Bare ONNX Runtime on the texts: {@code callers} threads share one session, each running whole groups of
   * {@code groupSize} texts sorted by token length in batches of {@code batchSize}.
   *
   * @return {seconds of the timed loop, tokens}
   */
  static double[] rawOrt(EmbeddingConfig ec, List<String> texts, int callers, int groupSize) throws Exception {
    ModelFiles files = ModelFiles.load(ec);
    String prefix = files.spec().passagePrefix();
    List<long[][]> batches = new ArrayList<>();
    long tokens = 0;
    try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(files.tokenizerJson()),
        Map.of("addSpecialTokens", "true", "truncation", "true", "padding", "false",
            "maxLength", Integer.toString(ec.maxSeqLength())))) {
      for (int g = 0; g < texts.size(); g += groupSize) {
        List<Encoding> enc = new ArrayList<>();
        for (String t : texts.subList(g, Math.min(texts.size(), g + groupSize))) {
          enc.add(tok.encode(prefix + t, true, false));
        }
        enc.sort((a, b) -> Integer.compare(b.getIds().length, a.getIds().length));
        for (int i = 0; i < enc.size(); i += ec.batchSize()) {
          List<Encoding> b = enc.subList(i, Math.min(enc.size(), i + ec.batchSize()));
          int seq = b.get(0).getIds().length;
          long[] ids = new long[b.size() * seq];
          long[] mask = new long[b.size() * seq];
          for (int j = 0; j < b.size(); j++) {
            System.arraycopy(b.get(j).getIds(), 0, ids, j * seq, b.get(j).getIds().length);
            System.arraycopy(b.get(j).getAttentionMask(), 0, mask, j * seq, b.get(j).getIds().length);
            tokens += b.get(j).getIds().length;
          }
          batches.add(new long[][] {ids, mask, {b.size(), seq}});
        }
      }
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
    opts.setIntraOpNumThreads(ec.intraOpThreads());
    opts.setInterOpNumThreads(1);
    opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    try (OrtSession session = env.createSession(files.onnx(), opts)) {
      boolean types = session.getInputNames().contains("token_type_ids");
      runBatch(env, session, batches.get(batches.size() - 1), types); // warm-up
      AtomicInteger next = new AtomicInteger();
      ExecutorService pool = Executors.newFixedThreadPool(callers);
      long t0 = System.nanoTime();
      List<Future<?>> fs = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        fs.add(pool.submit(() -> {
          for (int i = next.getAndIncrement(); i < batches.size(); i = next.getAndIncrement()) {
            runBatch(env, session, batches.get(i), types);
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      pool.shutdown();
      return new double[] {secs, tokens};
    }
  }

  private static void runBatch(OrtEnvironment env, OrtSession session, long[][] b, boolean types) throws Exception {
    long[] shape = {b[2][0], b[2][1]};
    Map<String, OnnxTensor> in = new HashMap<>();
    try {
      in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(b[0]), shape));
      in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(b[1]), shape));
      if (types) {
        in.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(new long[b[0].length]), shape));
      }
      try (OrtSession.Result r = session.run(in)) {
        ((OnnxTensor) r.get(0)).getFloatBuffer().get(0);
      }
    } finally {
      for (OnnxTensor t : in.values()) {
        t.close();
      }
    }
  }

  private static double round(double x) {
    return Math.round(x * 100) / 100.0;
  }

  private static String child(String dir, String name) {
    return (dir.endsWith("/") ? dir : dir + "/") + name;
  }

}
