package io.quarry.core.quant;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * Provenance of a trained {@link QuantizerModel}, stored in its file header.
 *
 * @param sampleSize training vectors used (after the {@code maxPointsPerCentroid × max(nlist, ksub)} cap)
 * @param seed seed of every randomized training step
 * @param sparkVersion Spark version that trained the model, or {@code "none"} for in-memory training
 * @param quarryVersion Quarry version that trained the model ({@code "dev"} when run from classes)
 * @param metrics training metrics by name, e.g. {@code ivf.mse}, {@code pq.mse} (mean squared error per vector),
 *     {@code opq.mse.iter0}; copied into a sorted map
 * @param maxPointsPerCentroid the sample cap per centroid the trainer applied (FAISS's {@code max_points_per_centroid},
 *     256 by default); 0 when unknown (hand-built models, files of format version 1)
 */
public record TrainingInfo(
    long sampleSize, long seed, String sparkVersion, String quarryVersion, Map<String, Double> metrics,
    int maxPointsPerCentroid)
    implements Serializable {

  public TrainingInfo {
    if (sampleSize < 0 || maxPointsPerCentroid < 0) {
      throw new IllegalArgumentException("sampleSize and maxPointsPerCentroid must be >= 0, got " + sampleSize
          + ", " + maxPointsPerCentroid);
    }
    sparkVersion = sparkVersion == null ? "none" : sparkVersion;
    quarryVersion = quarryVersion == null ? "dev" : quarryVersion;
    metrics = metrics == null ? new TreeMap<>() : new TreeMap<>(metrics);
  }

  /** Info with an unknown sample cap ({@code maxPointsPerCentroid = 0}). */
  public TrainingInfo(long sampleSize, long seed, String sparkVersion, String quarryVersion,
      Map<String, Double> metrics) {
    this(sampleSize, seed, sparkVersion, quarryVersion, metrics, 0);
  }

  /** Info without metrics, for models built by hand (tests). */
  public static TrainingInfo of(long sampleSize, long seed) {
    return new TrainingInfo(sampleSize, seed, "none", currentQuarryVersion(), Map.of());
  }

  /** The Quarry version from the jar manifest, or {@code "dev"}. */
  public static String currentQuarryVersion() {
    String v = TrainingInfo.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** A copy with one more metric. */
  public TrainingInfo withMetric(String name, double value) {
    TreeMap<String, Double> m = new TreeMap<>(metrics);
    m.put(name, value);
    return new TrainingInfo(sampleSize, seed, sparkVersion, quarryVersion, m, maxPointsPerCentroid);
  }
}
