package io.quarry.lexical;

import io.quarry.core.search.LexicalSearcher;
import io.quarry.core.search.ScoredChunk;
import io.quarry.core.segment.IndexManifest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * BM25 over every shard of an index version: each shard's top-{@code n}, merged into the global top-{@code n} by
 * score (ties by shard, id). Every shard scores with the collection statistics of the whole version ({@link
 * Bm25Shard.Stats}: document frequencies and lengths summed over all shards), so scores of different shards are on
 * one scale and do not depend on the sharding. Chunks of the manifest's tombstoned documents ({@code deletedDocs})
 * are never returned and are subtracted from those statistics, so live chunks score as in a full rebuild. Thread-safe.
 */
public final class Bm25Index implements LexicalSearcher {
  private final List<Bm25Shard> shards;

  private Bm25Index(List<Bm25Shard> shards) {
    this.shards = shards;
  }

  /**
   * Opens the BM25 part of every shard of the version in {@code versionDir}.
   *
   * @throws IOException (a {@link io.quarry.core.segment.CorruptIndexFileException} naming the directory) if a shard's
   *     Lucene index is missing or corrupt
   */
  public static Bm25Index open(Path versionDir, IndexManifest manifest) throws IOException {
    if (manifest.bm25() == null) {
      throw new IllegalArgumentException("index version " + manifest.version() + " has no BM25 part");
    }
    List<Bm25Shard> shards = new ArrayList<>();
    try {
      for (IndexManifest.Shard s : manifest.shards()) {
        shards.add(new Bm25Shard(versionDir.resolve(s.dir()), s.id(), s.chunks(), manifest.bm25().k1(),
            manifest.bm25().b(), s.tombstones()));
      }
    } catch (IOException | RuntimeException e) {
      for (Bm25Shard s : shards) {
        try {
          s.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
    Bm25Shard.Stats stats = new Bm25Shard.Stats(shards);
    shards.forEach(s -> s.useStats(stats));
    return new Bm25Index(shards);
  }

  @Override
  public List<ScoredChunk> search(String query, int n) throws IOException {
    List<ScoredChunk> all = new ArrayList<>();
    for (Bm25Shard s : shards) {
      all.addAll(s.search(query, n));
    }
    all.sort(ScoredChunk.BY_SCORE);
    return all.size() > n ? new ArrayList<>(all.subList(0, n)) : all;
  }

  @Override
  public float[] score(String query, List<ScoredChunk> chunks) throws IOException {
    float[] out = new float[chunks.size()];
    java.util.Map<Integer, List<Integer>> byShard = new java.util.TreeMap<>();
    for (int i = 0; i < chunks.size(); i++) {
      byShard.computeIfAbsent(chunks.get(i).shard(), x -> new ArrayList<>()).add(i);
    }
    for (java.util.Map.Entry<Integer, List<Integer>> e : byShard.entrySet()) {
      List<Integer> pos = e.getValue();
      int[] ids = new int[pos.size()];
      for (int j = 0; j < ids.length; j++) {
        ids[j] = chunks.get(pos.get(j)).id();
      }
      float[] s = shards.get(e.getKey()).score(query, ids);
      for (int j = 0; j < ids.length; j++) {
        out[pos.get(j)] = s[j];
      }
    }
    return out;
  }

  @Override
  public String text(int shard, int id) throws IOException {
    return shards.get(shard).text(id);
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    for (Bm25Shard s : shards) {
      try {
        s.close();
      } catch (IOException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
