package io.quarry.core.config;

import java.util.Set;

/**
 * Quantizer training (IVF coarse quantizer, residual PQ, optional OPQ), in FAISS's index-factory notation.
 *
 * @param spec index spec, e.g. {@code IVF64,PQ48x8} or {@code OPQ48,IVF1024,PQ48x8}
 * @param metric {@code ip} (inner product; embeddings are L2-normalized, so this is cosine) or {@code l2}
 * @param seed seed of every randomized training step (sampling, k-means|| init)
 * @param maxIter maximum k-means (Lloyd) iterations per MLlib KMeans run
 * @param tol k-means convergence tolerance (MLlib {@code tol})
 * @param maxPointsPerCentroid training sample cap: at most this many points per centroid (FAISS default 256)
 * @param opqIterations OPQ alternations of PQ training and the Procrustes rotation update
 */
public record QuantizerConfig(
    String spec, String metric, long seed, int maxIter, double tol, int maxPointsPerCentroid, int opqIterations)
    implements ConfigSection {

  public static final Set<String> METRICS = Set.of("ip", "l2");

  @Override
  public void validate(String path, Violations v) {
    v.notBlank(spec, path + ".spec");
    if (spec != null && !spec.isBlank()) {
      try {
        io.quarry.core.quant.IndexSpec.parse(spec);
      } catch (IllegalArgumentException e) {
        v.add(path + ".spec", e.getMessage());
      }
    }
    v.check(METRICS.contains(metric), path + ".metric", "must be one of " + METRICS + ", got '" + metric + "'");
    v.positive(maxIter, path + ".maxIter");
    v.check(tol >= 0, path + ".tol", "must be >= 0, got " + tol);
    v.positive(maxPointsPerCentroid, path + ".maxPointsPerCentroid");
    v.check(opqIterations >= 0, path + ".opqIterations", "must be >= 0, got " + opqIterations);
  }
}
