package io.quarry.jobs.eval;

import static org.apache.spark.sql.functions.col;

import io.quarry.core.config.EvaluationConfig;
import io.quarry.core.eval.ChunkHit;
import io.quarry.core.eval.ExactSearch;
import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.format.VecsFormat;
import io.quarry.embed.Embedder;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.StageJob;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * {@code quarry export-ann}: turns the embeddings of the embed stage and the embedded evaluation queries into an ANN
 * benchmark data set in the TEXMEX format ({@code <name>_base.fvecs}, {@code <name>_query.fvecs},
 * {@code <name>_groundtruth.ivecs}: the exact top-{@code k} base rows of each query by inner product,
 * {@code <name>_ids.txt}: the chunk id of each base row), so that {@code quarry bench-ann} and FAISS
 * ({@code lib/bench/scripts/faiss_ann.py}) measure the same specs on the same vectors. With L2-normalized
 * embeddings the inner-product and L2 rankings coincide.
 *
 * <p>A benchmark tool, not a pipeline stage: the base vectors are collected to the driver (n × d floats; SciFact:
 * 8,993 × 384, 14 MB), as the TEXMEX tools and FAISS need them in memory anyway, and the ground truth is computed
 * there from the same rows ({@link ExactSearch}, ties by chunk id). Base rows are ordered by chunk id.
 */
public final class ExportAnnJob implements StageJob {
  private final Path out;
  private final String name;
  private final int k;

  /**
   * @param out local output directory (created)
   * @param name file name prefix
   * @param k ground-truth neighbours per query
   */
  public ExportAnnJob(Path out, String name, int k) {
    this.out = out;
    this.name = name;
    this.k = k;
  }

  @Override
  public String name() {
    return "export-ann";
  }

  @Override
  /** Runs the steps: embed the judged queries, read the embeddings, compute the exact ground truth, write. */
  public JobSummary run(JobContext ctx) throws Exception {
    float[][] qv = embedJudgedQueries(ctx);
    int d = qv[0].length;
    List<Row> rows = readEmbeddings(ctx, d);
    int n = rows.size();
    int kk = Math.min(k, n);
    // ground truth: exact inner-product search over exactly the exported rows (ties by chunk id, as evaluation)
    ExactSearch exactSearch = new ExactSearch(qv, kk, DistanceMetric.IP);
    float[] base = new float[n * d];
    Map<String, Integer> rowOf = new HashMap<>();
    StringBuilder ids = new StringBuilder();
    for (int i = 0; i < n; i++) {
      Row r = rows.get(i);
      List<Object> v = r.getList(2);
      float[] x = new float[d];
      for (int t = 0; t < d; t++) {
        x[t] = ((Number) v.get(t)).floatValue();
      }
      System.arraycopy(x, 0, base, i * d, d);
      exactSearch.offer(r.getString(0), r.getString(1), x);
      rowOf.put(r.getString(0), i);
      ids.append(r.getString(0)).append('\n');
    }
    List<List<ChunkHit>> exact = exactSearch.results();
    int[] gt = new int[qv.length * kk];
    for (int q = 0; q < qv.length; q++) {
      for (int j = 0; j < kk; j++) {
        gt[q * kk + j] = rowOf.get(exact.get(q).get(j).chunkId());
      }
    }
    write(base, n, qv, gt, kk, ids);
    JobSummary s = new JobSummary(name());
    s.put("base", n).put("queries", qv.length).put("dim", d).put("groundTruthK", kk).put("output", out.toString());
    return s;
  }

  /** The evaluation's judged queries embedded by the configured model, in qrels order ({@code q × d}). */
  private static float[][] embedJudgedQueries(JobContext ctx) throws Exception {
    EvaluationConfig e = ctx.config().evaluation();
    EvalInputs in = EvalInputs.read(ctx, e);
    List<String> qtexts = new ArrayList<>();
    for (String q : in.qrels().queryIds()) {
      qtexts.add(in.texts().get(q));
    }
    if (qtexts.isEmpty()) {
      throw new IllegalArgumentException(e.qrelsPath() + ": no judged queries to export");
    }
    try (Embedder embedder = Embedder.open(ctx.config().embedding())) {
      return embedder.embedQueries(qtexts);
    }
  }

  /** The {@code d}-dimensional embeddings with a chunk id, ordered by chunk id (chunk_id, doc_id, vector). */
  private static List<Row> readEmbeddings(JobContext ctx, int d) {
    List<Row> rows = ctx.spark().read().option("pathGlobFilter", "*.parquet")
        .parquet(ctx.config().paths().embeddingsDir())
        .select(col("chunk_id").cast("string"), col("doc_id").cast("string"), col("vector"))
        .where(col("vector").isNotNull().and(org.apache.spark.sql.functions.size(col("vector")).equalTo(d))
            .and(col("chunk_id").isNotNull()))
        .orderBy("chunk_id").collectAsList();
    if (rows.isEmpty()) {
      throw new IllegalArgumentException(ctx.config().paths().embeddingsDir() + ": no " + d
          + "-dimensional embeddings to export (run the embed stage with the same model first)");
    }
    return rows;
  }

  /** Writes {@code <name>_base.fvecs}, {@code _query.fvecs}, {@code _groundtruth.ivecs} and {@code _ids.txt}. */
  private void write(float[] base, int n, float[][] qv, int[] gt, int kk, CharSequence ids) throws Exception {
    int d = qv[0].length;
    float[] queries = new float[qv.length * d];
    for (int q = 0; q < qv.length; q++) {
      System.arraycopy(qv[q], 0, queries, q * d, d);
    }
    Files.createDirectories(out);
    VecsFormat.writeFvecs(out.resolve(name + "_base.fvecs"), base, n, d);
    VecsFormat.writeFvecs(out.resolve(name + "_query.fvecs"), queries, qv.length, d);
    VecsFormat.writeIvecs(out.resolve(name + "_groundtruth.ivecs"), gt, qv.length, kk);
    Files.writeString(out.resolve(name + "_ids.txt"), ids, StandardCharsets.UTF_8);
  }

}
