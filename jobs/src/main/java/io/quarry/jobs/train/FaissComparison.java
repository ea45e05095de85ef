package io.quarry.jobs.train;

import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.Neighbor;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.format.VecsFormat;
import io.quarry.core.quant.ivf.ArrayInvertedLists;
import io.quarry.core.quant.ivf.IvfPqSearcher;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaPairRDD;
import scala.Tuple2;

/**
 * {@code bench-train --faiss DIR}: writes what the FAISS companion script ({@code
 * lib/bench/scripts/faiss_train_bench.py}) needs to train and search the same vectors, then runs it:
 *
 * <ul>
 *   <li>{@code base.fvecs}: the N generated vectors in id order (streamed from the executors partition by
 *       partition; the driver holds one partition at a time), and Quarry's inverted lists of them (encoded in the
 *       executors; the driver holds the N lists and codes, N × (codeSize + 4) bytes plus ids);
 *   <li>{@code query.fvecs}: {@code --queries} more vectors of the same generator (ids N, N+1, …), not in the base;
 *   <li>{@code quarry-knn.ivecs}: Quarry's top 10 base ids per query at {@code --nprobe} (inverted lists of the
 *       trained model over the whole base, {@link IvfPqSearcher});
 *   <li>{@code quarry.json}: spec, N, d, seed, training parameters and Quarry's per-step seconds.
 * </ul>
 *
 * The script computes the exact ground truth (FAISS flat inner product), trains FAISS with the same spec, sample cap
 * and iterations, and prints per-step times, the time ratio and 1-recall@1/@10 for both.
 */
final class FaissComparison {
  private FaissComparison() {}

  static void run(BenchTrainCommand cmd, Path dir, String ivfTraining, JavaPairRDD<String, float[]> data,
      SparkQuantizerTrainer.Result r,
      float[] centres, long n, IndexSpec spec, double genSeconds, double encodeSeconds, double mse) {
    try {
      Files.createDirectories(dir);
      int d = cmd.d;
      QuantizerModel model = r.model();
      if (n > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("--faiss: N must fit an int");
      }
      ArrayInvertedLists lists = writeBase(dir, data, model, d);
      int nq = cmd.queries;
      float[] xq = new float[nq * d];
      for (int q = 0; q < nq; q++) {
        System.arraycopy(SyntheticVectors.vector(centres, cmd.clusters, d, cmd.seed, n + q), 0, xq, q * d, d);
      }
      VecsFormat.writeFvecs(dir.resolve("query.fvecs"), xq, nq, d);
      double searchSeconds = searchQuarry(dir, model, lists, xq, nq, d, cmd.nprobe);
      writeJson(dir, cmd, ivfTraining, r, n, spec, encodeSeconds, searchSeconds, mse);
      runScript(cmd, dir);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Writes {@code base.fvecs} and returns Quarry's inverted lists of the base. The codes are encoded in the executors
   * (all cores, the same encodeBatch as the encode step) and cached: ids, lists and codes only (~56 bytes a vector),
   * streamed to the driver next to the vectors.
   */
  private static ArrayInvertedLists writeBase(Path dir, JavaPairRDD<String, float[]> data, QuantizerModel model,
      int d) throws IOException {
    ArrayInvertedLists lists = new ArrayInvertedLists(model.nlist(), model.codeSize());
    org.apache.spark.api.java.JavaSparkContext jsc =
        org.apache.spark.api.java.JavaSparkContext.fromSparkContext(data.context());
    org.apache.spark.broadcast.Broadcast<QuantizerModel> bm = jsc.broadcast(model);
    org.apache.spark.api.java.JavaRDD<Encoded> encoded = encode(data, bm, d);
    encoded.count();
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
        Files.newOutputStream(dir.resolve("base.fvecs")), 1 << 20))) {
      // partitions hold ids [n·p/np, n·(p+1)/np) in order, so streaming them in partition order is id order
      Iterator<Tuple2<String, float[]>> it = data.toLocalIterator();
      Iterator<Encoded> et = encoded.toLocalIterator();
      long next = 0;
      while (it.hasNext()) {
        Tuple2<String, float[]> t = it.next();
        Encoded e = et.next();
        if (Long.parseLong(t._1()) != next || e.id() != next) {
          throw new IllegalStateException("--faiss: vectors not in id order at " + t._1() + " / " + e.id());
        }
        writeVec(out, t._2());
        lists.add(e.list(), (int) next, e.code(), 0);
        next++;
      }
    } finally {
      encoded.unpersist(false);
      bm.destroy();
    }
    return lists;
  }

  /** The base encoded in the executors with the broadcast model, in batches; cached. */
  private static org.apache.spark.api.java.JavaRDD<Encoded> encode(JavaPairRDD<String, float[]> data,
      org.apache.spark.broadcast.Broadcast<QuantizerModel> bm, int d) {
    int cs = bm.value().codeSize();
    return data.mapPartitions(part -> {
      List<Encoded> out = new ArrayList<>();
      QuantizerModel m = bm.value();
      long[] ids = new long[QuantizerModel.ENCODE_BLOCK];
      float[] x = new float[QuantizerModel.ENCODE_BLOCK * d];
      int rows = 0;
      while (part.hasNext() || rows > 0) {
        if (part.hasNext()) {
          Tuple2<String, float[]> t = part.next();
          ids[rows] = Long.parseLong(t._1());
          System.arraycopy(t._2(), 0, x, rows * d, d);
          rows++;
        }
        if (rows == QuantizerModel.ENCODE_BLOCK || (!part.hasNext() && rows > 0)) {
          QuantizerModel.EncodedBatch b = m.encodeBatch(x, rows, MllibBlasProducts.forCoarse(m.nlist()));
          for (int i = 0; i < rows; i++) {
            out.add(new Encoded(ids[i], b.lists()[i], java.util.Arrays.copyOfRange(b.codes(), i * cs,
                (i + 1) * cs)));
          }
          rows = 0;
        }
      }
      return out.iterator();
    }, true).persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
  }

  /** Quarry's top 10 per query at {@code nprobe} to {@code quarry-knn.ivecs}; returns the search seconds. */
  private static double searchQuarry(Path dir, QuantizerModel model, ArrayInvertedLists lists, float[] xq, int nq,
      int d, int nprobe) throws IOException {
    IvfPqSearcher searcher = new IvfPqSearcher(model);
    int[] knn = new int[nq * 10];
    java.util.Arrays.fill(knn, -1);
    long t0 = System.nanoTime();
    for (int q = 0; q < nq; q++) {
      List<Neighbor> hits = searcher.search(java.util.Arrays.copyOfRange(xq, q * d, (q + 1) * d), 10, nprobe,
          lists);
      for (int i = 0; i < hits.size(); i++) {
        knn[q * 10 + i] = hits.get(i).id();
      }
    }
    double searchSeconds = (System.nanoTime() - t0) / 1e9;
    VecsFormat.writeIvecs(dir.resolve("quarry-knn.ivecs"), knn, nq, 10);
    return searchSeconds;
  }

  private static void writeJson(Path dir, BenchTrainCommand cmd, String ivfTraining, SparkQuantizerTrainer.Result r,
      long n, IndexSpec spec, double encodeSeconds, double searchSeconds, double mse) throws IOException {
    Map<String, Double> st = r.stepSeconds();
    StringBuilder json = new StringBuilder();
    json.append(String.format(Locale.ROOT, "{\"spec\": \"%s\", \"n\": %d, \"d\": %d, \"seed\": %d, \"maxIter\": %d, "
        + "\"maxPointsPerCentroid\": %d, \"opqIterations\": %d, \"nprobe\": %d, \"master\": \"%s\", "
        + "\"sampleSize\": %d, \"pqSampleSize\": %d, \"ivfInit\": \"%s\", \"ivfSolver\": \"%s\", \"ivfTraining\": \"%s\", \"ivfMse\": %.6f, \"mse\": %.6f, \"seconds\": {",
        spec, n, cmd.d, cmd.seed, cmd.maxIter, cmd.maxPointsPerCentroid, cmd.opqIterations, cmd.nprobe, cmd.master,
        r.sampleSize(), r.pqSampleSize(), cmd.ivfInit + (cmd.ivfInitSample > 0 ? " on " + cmd.ivfInitSample : ""),
        cmd.ivfSolver == null ? "default" : cmd.ivfSolver, ivfTraining,
        r.model().info().metrics().getOrDefault("ivf.mse", Double.NaN), mse));
    List<String> parts = new ArrayList<>();
    st.forEach((k, v) -> parts.add(String.format(Locale.ROOT, "\"%s\": %.3f", k, v)));
    parts.add(String.format(Locale.ROOT, "\"encode\": %.3f", encodeSeconds));
    parts.add(String.format(Locale.ROOT, "\"search\": %.3f", searchSeconds));
    json.append(String.join(", ", parts)).append("}}\n");
    Files.writeString(dir.resolve("quarry.json"), json.toString());
  }

  private static void runScript(BenchTrainCommand cmd, Path dir) throws IOException, InterruptedException {
    Path script = Path.of("lib/bench/scripts/faiss_train_bench.py");
    ProcessBuilder pb = new ProcessBuilder(cmd.faissPython, script.toString(), dir.toString())
        .inheritIO();
    pb.environment().put("FAISS_THREADS", Integer.toString(cmd.faissThreads));
    pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
    int rc = pb.start().waitFor();
    if (rc != 0) {
      System.err.println("faiss_train_bench.py exited with " + rc + "; the files are in " + dir);
    }
  }

  /** One base vector's id, list and code. */
  record Encoded(long id, int list, byte[] code) implements java.io.Serializable {}

  private static void writeVec(DataOutputStream out, float[] v) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(v.length);
    for (float f : v) {
      b.putFloat(f);
    }
    out.write(b.array());
  }
}
