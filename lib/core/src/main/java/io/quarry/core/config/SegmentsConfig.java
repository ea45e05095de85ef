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
 * @param incremental build the new version from a base version ({@code base}) with its quantizer frozen (no
 *     training): the base's shards are kept (copied), added and changed documents go to new delta shards, deleted
 *     and replaced documents of kept shards become tombstones in the manifest (docs/architecture.md, "Refresh")
 * @param base the base version of an incremental build or a compaction; {@code ""} = the version {@code CURRENT}
 *     names
 * @param compact with {@code incremental}: rewrite every shard from the current chunks and embeddings with the base's
 *     frozen quantizer (no tombstones, no training) instead of adding delta shards
 * @param compactTombstoneShare an incremental build compacts (as {@code compact}) when the new version's tombstoned
 *     chunks would exceed this share of its stored chunks, in {@code [0, 1]}
 * @param driftMaxMseRatio an incremental build takes the full-retrain path when the mean squared quantization error
 *     of the new vectors under the frozen quantizer exceeds this multiple of the error recorded at training (its
 *     held-out estimate {@code pq.mse.heldout}, {@link io.quarry.core.quant.train.PqHeldOutError}; {@code pq.mse} for
 *     older quantizers); {@code 0} disables the check
 * @param driftMaxChangedShare an incremental build takes the full-retrain path when the share of added, changed and
 *     deleted documents (of the base's live documents) exceeds this, in {@code [0, 1]}; {@code 1} disables it
 */
public record SegmentsConfig(int shards, String sharding, String rescore, double bm25K1, double bm25B,
    int targetShardChunks, String version, boolean publish, boolean incremental, String base, boolean compact,
    double compactTombstoneShare, double driftMaxMseRatio, double driftMaxChangedShare)
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
    v.check(base != null && base.matches("[A-Za-z0-9._-]{0,64}") && !base.startsWith("."), path + ".base",
        "must be empty or 1..64 chars of [A-Za-z0-9._-] not starting with '.', got '" + base + "'");
    v.check(compactTombstoneShare >= 0 && compactTombstoneShare <= 1, path + ".compactTombstoneShare",
        "must be in [0, 1], got " + compactTombstoneShare);
    v.check(driftMaxMseRatio >= 0, path + ".driftMaxMseRatio", "must be >= 0 (0 = off), got " + driftMaxMseRatio);
    v.check(driftMaxChangedShare >= 0 && driftMaxChangedShare <= 1, path + ".driftMaxChangedShare",
        "must be in [0, 1], got " + driftMaxChangedShare);
    v.check(!compact || incremental, path + ".compact", "needs segments.incremental=true (it keeps the base's "
        + "quantizer)");
  }
}
