package io.quarry.jobs.build;

import io.quarry.core.config.EmbeddingConfig;
import io.quarry.core.quant.EmbeddingVector;
import io.quarry.core.segment.Checksums;
import io.quarry.core.segment.ChunkTableFile;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.RescoreVectorsFile;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.SerializableConf;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The build stage's part for {@code embedding.extraModels} (issue 26): after the shards are written, writes each
 * extra model's vectors of every shard's chunks as {@code <shard>/dense@<model>/vectors.bin} (codec
 * {@code quarry.vectors}, in the shard-local id order of the shard's {@code chunks.tbl}, encoding
 * {@code segments.rescore}, float32 when that is {@code none}) and records the fields in the manifest
 * ({@link IndexManifest.DenseField}: model id, SHA-256 and dimension from the extra embeddings' {@code _model.json};
 * the files in each shard's file list with size and SHA-256). Spark moves the data: the chunk tables give
 * (chunk id → shard, local id), joined with the extra embeddings, one task per shard writes its file. A chunk without
 * a vector of the right dimension, or with a non-finite one, fails the build (a field covers every chunk). Without
 * extra models the manifest is returned unchanged.
 */
final class DenseFieldsBuild {
  private static final Logger LOG = LoggerFactory.getLogger(DenseFieldsBuild.class);

  private DenseFieldsBuild() {}

  /**
   * Writes the dense fields of {@code manifest}'s version (not yet written) and returns the manifest with them.
   * Shards that already list a field's file (kept shards of an incremental build, copied byte for byte from a base
   * with the same field) keep it.
   */
  static IndexManifest attach(JobContext ctx, String versionDir, IndexManifest manifest) throws IOException {
    EmbeddingConfig ec = ctx.config().embedding();
    if (ec.extraModels().isEmpty()) {
      return manifest;
    }
    String encoding = "none".equals(ctx.config().segments().rescore()) ? "float32" : ctx.config().segments().rescore();
    List<IndexManifest.DenseField> fields = new ArrayList<>();
    List<IndexManifest.Shard> shards = new ArrayList<>(manifest.shards());
    for (String modelId : ec.extraModels()) {
      String embDir = EmbeddingConfig.extraEmbeddingsDir(ctx.config().paths().embeddingsDir(), modelId);
      IndexManifest.Model model = BuildIndexJob.readModel(ctx, embDir,
          EmbeddingConfig.BUNDLED_MODEL_DIMS.get(modelId));
      if (!model.modelId().equals(modelId)) {
        throw new IOException(embDir + ": embeddings of " + model.modelId() + ", expected " + modelId
            + " (embedding.extraModels; run the embed stage again)");
      }
      String rel = IndexManifest.DenseField.pathOf(modelId);
      Map<Integer, Long> todo = new HashMap<>();
      for (IndexManifest.Shard s : shards) {
        if (s.files().stream().noneMatch(f -> f.path().equals(s.dir() + "/" + rel))) {
          todo.put(s.id(), s.chunks());
        }
      }
      Map<Integer, IndexManifest.FileEntry> written = writeField(ctx, versionDir, embDir, rel, encoding,
          model.dim(), todo, shards.size());
      for (int i = 0; i < shards.size(); i++) {
        IndexManifest.FileEntry f = written.get(i);
        if (f != null) {
          IndexManifest.Shard s = shards.get(i);
          List<IndexManifest.FileEntry> files = new ArrayList<>(s.files());
          files.add(f);
          shards.set(i, new IndexManifest.Shard(s.id(), s.dir(), s.chunks(), s.docs(), s.listFrom(), s.listTo(),
              files, s.deletedDocs()));
        }
      }
      fields.add(new IndexManifest.DenseField(modelId, model, rel, encoding));
      LOG.info("build: dense field {} ({} shards written) from {}", modelId, written.size(), embDir);
    }
    return manifest.withDenseFields(fields, shards);
  }

  /** One task per shard in {@code todo} (shard id → chunks): the field's vectors file, uploaded; its file entry. */
  private static Map<Integer, IndexManifest.FileEntry> writeField(JobContext ctx, String versionDir, String embDir,
      String rel, String encoding, int dim, Map<Integer, Long> todo, int shardCount) {
    if (todo.isEmpty()) {
      return Map.of();
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    SerializableConf conf = new SerializableConf(ctx.hadoopConf());
    List<Integer> ids = new ArrayList<>(todo.keySet());
    // chunk id -> (shard, local id), from the chunk tables just written
    JavaPairRDD<String, long[]> where = jsc.parallelize(ids, Math.max(1, ids.size()))
        .flatMapToPair(shard -> chunkIds(conf, versionDir, shard));
    JavaPairRDD<String, float[]> vectors = ctx.spark().read().option("pathGlobFilter", "*.parquet").parquet(embDir)
        .select("chunk_id", "vector").javaRDD()
        .mapToPair(r -> new Tuple2<>(r.<String>getAs("chunk_id"), vector(r, dim)));
    Task task = new Task(versionDir, conf, rel, encoding, dim, new HashMap<>(todo));
    List<Tuple2<Integer, IndexManifest.FileEntry>> out = where.leftOuterJoin(vectors)
        .mapToPair(t -> new Tuple2<>((int) t._2()._1()[0], new Tuple2<>(t._1(), new Tuple2<>(t._2()._1()[1],
            t._2()._2().orNull()))))
        .partitionBy(new HashPartitioner(shardCount))
        .mapPartitionsWithIndex((idx, it) -> task.run(idx, it), true).collect();
    Map<Integer, IndexManifest.FileEntry> m = new HashMap<>();
    for (Tuple2<Integer, IndexManifest.FileEntry> t : out) {
      m.put(t._1(), t._2());
    }
    if (!m.keySet().equals(todo.keySet())) {
      throw new IllegalStateException("dense field " + rel + ": wrote shards " + m.keySet() + ", expected "
          + todo.keySet());
    }
    return m;
  }

  /** The chunk ids of a shard's {@code chunks.tbl} with (shard, local id). */
  private static Iterator<Tuple2<String, long[]>> chunkIds(SerializableConf conf, String versionDir, int shard)
      throws IOException {
    org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(versionDir,
        IndexManifest.shardDir(shard) + "/" + ChunkTableFile.FILE_NAME);
    FileSystem fs = src.getFileSystem(conf.get());
    Path tmp = Files.createTempFile("quarry-chunks-", ".tbl");
    try {
      try (InputStream in = fs.open(src)) {
        Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      ChunkTableFile t = ChunkTableFile.open(tmp, shard, true);
      List<Tuple2<String, long[]>> out = new ArrayList<>(t.size());
      for (int i = 0; i < t.size(); i++) {
        out.add(new Tuple2<>(t.chunkId(i), new long[] {shard, i}));
      }
      return out.iterator();
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** The vector of an embeddings row, or null when it is missing, of another dimension or not finite. */
  private static float[] vector(Row r, int dim) {
    int at = r.fieldIndex("vector");
    return EmbeddingVector.parse(r.isNullAt(at) ? null : r.getList(at), dim).vector();
  }

  /** Executor side: one shard's field file. */
  private record Task(String versionDir, SerializableConf conf, String rel, String encoding, int dim,
      HashMap<Integer, Long> todo) implements Serializable {
    Iterator<Tuple2<Integer, IndexManifest.FileEntry>> run(int shard,
        Iterator<Tuple2<Integer, Tuple2<String, Tuple2<Long, float[]>>>> it) throws IOException {
      Long chunks = todo.get(shard);
      if (chunks == null) {
        if (it.hasNext()) {
          throw new IllegalStateException("rows for shard " + it.next()._1() + " in partition " + shard);
        }
        return java.util.Collections.emptyIterator();
      }
      int n = Math.toIntExact(chunks);
      float[] all = new float[n * dim];
      boolean[] seen = new boolean[n];
      while (it.hasNext()) {
        Tuple2<Integer, Tuple2<String, Tuple2<Long, float[]>>> t = it.next();
        int id = Math.toIntExact(t._2()._2()._1());
        float[] x = t._2()._2()._2();
        if (t._1() != shard || id < 0 || id >= n || seen[id]) {
          throw new IllegalStateException("dense field " + rel + ": bad row for shard " + shard + ", id " + id);
        }
        if (x == null) {
          throw new IllegalArgumentException("dense field " + rel + ": chunk " + t._2()._1() + " has no valid "
              + dim + "-dimensional finite vector in the extra model's embeddings (run the embed stage again)");
        }
        seen[id] = true;
        System.arraycopy(x, 0, all, id * dim, dim);
      }
      for (int i = 0; i < n; i++) {
        if (!seen[i]) {
          throw new IllegalStateException("dense field " + rel + ": shard " + shard + " id " + i + " missing");
        }
      }
      Path tmp = Files.createTempDirectory("quarry-field-");
      try {
        Path f = tmp.resolve("vectors.bin");
        RescoreVectorsFile.write(f, shard, RescoreVectorsFile.Encoding.parse(encoding), dim, all);
        String path = IndexManifest.shardDir(shard) + "/" + rel;
        org.apache.hadoop.fs.Path dst = new org.apache.hadoop.fs.Path(versionDir, path);
        FileSystem fs = dst.getFileSystem(conf.get());
        try (var out = fs.create(dst, true)) {
          Files.copy(f, out);
        }
        IndexManifest.FileEntry e = new IndexManifest.FileEntry(path, Files.size(f), Checksums.sha256(f));
        return List.of(new Tuple2<>(shard, e)).iterator();
      } finally {
        ShardTask.deleteRecursively(tmp);
      }
    }
  }
}
