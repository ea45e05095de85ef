package io.quarry.core.segment;

import io.quarry.core.config.SegmentsConfig;
import java.util.ArrayList;
import java.util.List;

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
