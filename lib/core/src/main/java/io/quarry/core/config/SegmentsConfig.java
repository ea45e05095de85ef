package io.quarry.core.config;

import java.util.Set;

/**
 * Index segments: sharding and what each shard stores.
 *
 * @param shards number of shards
 * @param sharding {@code hash} (by doc id; all chunks of a document in one shard) or {@code ivf} (contiguous
 *     ranges of IVF lists per shard)
 * @param rescore vectors stored for exact re-scoring: {@code float32}, {@code sq8} or {@code none}
 * @param bm25K1 BM25 k1 (Anserini default 0.9)
 * @param bm25B BM25 b (Anserini default 0.4)
 * @param targetShardChunks when {@code > 0}, the shard count is {@code ceil(chunks / targetShardChunks)} instead of
 *     {@code shards}
 * @param version index version id (directory name under {@code paths.index}); {@code ""} derives it from the config
 *     hash, quantizer and model ({@code v-<12 hex>}, with {@code -rN} appended if that version already exists)
 * @param publish update {@code CURRENT} to the new version once it validates
 */
public record SegmentsConfig(int shards, String sharding, String rescore, double bm25K1, double bm25B,
    int targetShardChunks, String version, boolean publish)
    implements ConfigSection {

  public static final Set<String> SHARDING = Set.of("hash", "ivf");
  public static final Set<String> RESCORE = Set.of("float32", "sq8", "none");

  @Override
  public void validate(String path, Violations v) {
    v.positive(shards, path + ".shards");
    v.check(SHARDING.contains(sharding), path + ".sharding", "must be one of " + SHARDING + ", got '" + sharding + "'");
    v.check(RESCORE.contains(rescore), path + ".rescore", "must be one of " + RESCORE + ", got '" + rescore + "'");
    v.check(bm25K1 >= 0, path + ".bm25K1", "must be >= 0, got " + bm25K1);
    v.check(bm25B >= 0 && bm25B <= 1, path + ".bm25B", "must be in [0, 1], got " + bm25B);
    v.check(targetShardChunks >= 0, path + ".targetShardChunks", "must be >= 0, got " + targetShardChunks);
    v.check(version != null && version.matches("[A-Za-z0-9._-]{0,64}") && !version.startsWith("."),
        path + ".version", "must be empty or 1..64 chars of [A-Za-z0-9._-] not starting with '.', got '"
            + version + "'");
  }
}
