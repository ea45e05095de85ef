package io.quarry.core.segment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes the dense part of one shard into a local directory: {@link IvfListsFile} ({@code lists.ivf}),
 * {@link ChunkTableFile} ({@code chunks.tbl}) and, unless {@code rescore = none}, {@link RescoreVectorsFile}
 * ({@code vectors.bin}). The lexical (BM25) part is written by {@code io.quarry.lexical.Bm25ShardWriter} into
 * {@code bm25/} of the same directory. Entry {@code i} gets shard-local id {@code i}.
 */
public final class ShardWriter {
  private ShardWriter() {}

  /** What was written. */
  public record Stats(long chunks, long docs) {}

  /**
   * @param dir shard directory (created if missing)
   * @param shard shard id
   * @param nlist IVF lists
   * @param codeSize bytes per code; every entry's code must have this length
   * @param dim vector dimension; every entry's vector must have this length (unless {@code rescore = none})
   * @param rescore {@code float32}, {@code sq8} or {@code none}
   * @throws IllegalArgumentException naming the chunk id of an entry with a wrong code or vector length
   * @throws IOException on write failure
   */
  public static Stats writeDense(Path dir, int shard, int nlist, int codeSize, int dim, String rescore,
      List<ShardEntry> entries) throws IOException {
    Files.createDirectories(dir);
    int n = entries.size();
    int[] list = new int[n];
    int[] ids = new int[n];
    byte[] codes = new byte[Math.multiplyExact(n, codeSize)];
    boolean keepVectors = !"none".equals(rescore);
    float[] vectors = keepVectors ? new float[Math.multiplyExact(n, dim)] : null;
    List<ChunkTableFile.Row> rows = new ArrayList<>(n);
    Set<String> docs = new HashSet<>();
    for (int i = 0; i < n; i++) {
      ShardEntry e = entries.get(i);
      if (e.code().length != codeSize) {
        throw new IllegalArgumentException("chunk " + e.chunkId() + ": code has " + e.code().length
            + " bytes, expected codeSize " + codeSize);
      }
      list[i] = e.list();
      ids[i] = i;
      System.arraycopy(e.code(), 0, codes, i * codeSize, codeSize);
      if (keepVectors) {
        if (e.vector().length != dim) {
          throw new IllegalArgumentException("chunk " + e.chunkId() + ": vector has " + e.vector().length
              + " dims, expected " + dim);
        }
        System.arraycopy(e.vector(), 0, vectors, i * dim, dim);
      }
      rows.add(new ChunkTableFile.Row(e.chunkId(), e.docId(), e.ordinal(), e.startChar(), e.endChar()));
      docs.add(e.docId());
    }
    IvfListsFile.write(dir.resolve(IvfListsFile.FILE_NAME), shard, nlist, codeSize, list, ids, codes);
    ChunkTableFile.write(dir.resolve(ChunkTableFile.FILE_NAME), shard, rows);
    if (keepVectors) {
      RescoreVectorsFile.write(dir.resolve(RescoreVectorsFile.FILE_NAME), shard,
          RescoreVectorsFile.Encoding.parse(rescore), dim, vectors);
    }
    return new Stats(n, docs.size());
  }
}
