package io.quarry.jobs.build;

import io.quarry.core.segment.IndexManifest;
import java.util.List;

/**
 * An incremental build refused because the new documents drifted from the base's frozen quantizer
 * ({@code segments.driftMaxMseRatio}, {@code segments.driftMaxChangedShare}): the quantizer must be retrained and the
 * version built in full. {@code pipeline} does that itself; {@code quarry build} exits with
 * {@link io.quarry.jobs.QuarryCli#EXIT_RETRAIN}. Nothing was written under {@code paths.index}; the measures are in
 * {@code <paths.work>/refresh.json}.
 */
public final class RetrainRequiredException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final transient IndexManifest.Refresh refresh;

  public RetrainRequiredException(IndexManifest.Refresh refresh) {
    super("incremental build from " + refresh.base() + " refused, retrain the quantizer: "
        + String.join("; ", refresh.reasons()));
    this.refresh = refresh;
  }

  /** The measures and reasons of the refused refresh. */
  public IndexManifest.Refresh refresh() {
    return refresh;
  }

  /** The reasons, e.g. {@code "mseRatio 2.310 > segments.driftMaxMseRatio 1.5"}. */
  public List<String> reasons() {
    return refresh.reasons();
  }
}
