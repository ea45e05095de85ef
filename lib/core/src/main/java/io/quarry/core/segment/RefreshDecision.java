package io.quarry.core.segment;

import io.quarry.core.config.SegmentsConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What an incremental build does with its measured changes (issue 15): keep the base's shards and add delta shards
 * ({@link Path#INCREMENTAL}), rewrite every shard with the frozen quantizer ({@link Path#COMPACT}: tombstones over
 * {@code segments.compactTombstoneShare}, or {@code segments.compact}), or refuse and ask for a retrained quantizer
 * ({@link Path#RETRAIN}: drift over {@code segments.driftMaxMseRatio} or {@code segments.driftMaxChangedShare}).
 * Drift wins over compaction: a drifted collection needs new codebooks, not a rewrite with the old ones.
 *
 * @param path the decision
 * @param reasons human-readable reasons (empty for {@link Path#INCREMENTAL}), e.g. {@code "mseRatio 2.31 >
 *     segments.driftMaxMseRatio 1.5"}
 */
public record RefreshDecision(Path path, List<String> reasons) {
  /** The three ways an incremental build can go. */
  public enum Path {
    INCREMENTAL, COMPACT, RETRAIN;

    /** Lower-case name as written in manifests and summaries. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * What an incremental build counted before it decides: its base, the documents that changed and the quantization
   * error of the vectors it encoded for them.
   *
   * @param baseId the base version's id
   * @param base the base version's manifest
   * @param added documents not in the base
   * @param changed documents whose content digest differs from the base's
   * @param deleted base documents missing from the input
   * @param newTombstonedChunks the base chunks of the changed and deleted documents (tombstoned by this version)
   * @param newVectors vectors encoded for the added and changed documents
   * @param newMse their mean squared quantization error (null without new vectors)
   * @param newImbalance their list-size imbalance factor (FAISS's; null without new vectors)
   * @param trainMetrics the frozen quantizer's training metrics ({@code pq.mse.heldout}, {@code pq.mse})
   */
  public record Changes(String baseId, IndexManifest base, long added, long changed, long deleted,
      long newTombstonedChunks, long newVectors, Double newMse, Double newImbalance,
      Map<String, Double> trainMetrics) {}

  /**
   * The drift and tombstone measures of a would-be incremental version (no decision yet: {@code path} null).
   * <ul>
   *   <li>{@code changedShare = (added + changed + deleted) / base documents}, capped at 1 (1 for an empty base);
   *   <li>{@code mseRatio = newMse / trainingMse}, the reference being the training error's held-out (leave-one-out)
   *       estimate {@code pq.mse.heldout}, or the in-sample {@code pq.mse} for quantizers trained before it was
   *       recorded; null when either is missing;
   *   <li>{@code tombstoneShare = (base's tombstoned + newly tombstoned chunks) / (base's stored chunks + new
   *       vectors)}.
   * </ul>
   */
  public static IndexManifest.Refresh measure(Changes c) {
    IndexManifest base = c.base();
    long unchanged = base.docs() - c.changed() - c.deleted();
    long moved = c.added() + c.changed() + c.deleted();
    double changedShare = base.docs() == 0 ? 1.0 : Math.min(1.0, moved / (double) base.docs());
    Double trainMse = c.trainMetrics().getOrDefault("pq.mse.heldout", c.trainMetrics().get("pq.mse"));
    Double ratio = c.newMse() == null || trainMse == null || trainMse <= 0 ? null : c.newMse() / trainMse;
    long baseStored = 0;
    for (IndexManifest.Shard s : base.shards()) {
      baseStored += s.chunks();
    }
    long baseTomb = base.refresh() == null ? 0 : base.refresh().tombstonedChunks();
    long tombChunks = baseTomb + c.newTombstonedChunks();
    long stored = baseStored + c.newVectors();
    double tombShare = stored == 0 ? 0 : tombChunks / (double) stored;
    return new IndexManifest.Refresh(c.baseId(), base.shards().size(), 0, unchanged, c.added(), c.changed(),
        c.deleted(), changedShare, c.newVectors(), c.newMse(), trainMse, ratio, c.newImbalance(), tombChunks,
        tombShare, null, List.of());
  }

  /**
   * Decides from the measured refresh.
   *
   * @param cfg thresholds ({@code driftMaxMseRatio} 0 = off, {@code driftMaxChangedShare} 1 = off,
   *     {@code compactTombstoneShare}, {@code compact})
   * @param r the measures of the would-be incremental version
   */
  public static RefreshDecision decide(SegmentsConfig cfg, IndexManifest.Refresh r) {
    List<String> drift = new ArrayList<>();
    if (cfg.driftMaxMseRatio() > 0 && r.mseRatio() != null && r.mseRatio() > cfg.driftMaxMseRatio()) {
      drift.add(String.format(java.util.Locale.ROOT, "mseRatio %.3f > segments.driftMaxMseRatio %s", r.mseRatio(),
          cfg.driftMaxMseRatio()));
    }
    if (cfg.driftMaxChangedShare() < 1 && r.changedShare() > cfg.driftMaxChangedShare()) {
      drift.add(String.format(java.util.Locale.ROOT, "changedShare %.3f > segments.driftMaxChangedShare %s",
          r.changedShare(), cfg.driftMaxChangedShare()));
    }
    if (!drift.isEmpty()) {
      return new RefreshDecision(Path.RETRAIN, List.copyOf(drift));
    }
    if (cfg.compact()) {
      return new RefreshDecision(Path.COMPACT, List.of("segments.compact=true"));
    }
    if (r.tombstoneShare() > cfg.compactTombstoneShare()) {
      return new RefreshDecision(Path.COMPACT, List.of(String.format(java.util.Locale.ROOT,
          "tombstoneShare %.3f > segments.compactTombstoneShare %s", r.tombstoneShare(),
          cfg.compactTombstoneShare())));
    }
    return new RefreshDecision(Path.INCREMENTAL, List.of());
  }
}
