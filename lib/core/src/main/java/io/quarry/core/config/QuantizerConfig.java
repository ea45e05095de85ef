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
 * @param ivfInit initialisation of the IVF coarse quantizer's MLlib k-means: {@code k-means||} (MLlib's default,
 *     Bahmani et al. 2012) or {@code random} (nlist seeded random sample vectors, FAISS's; no initialisation passes,
 *     which at 1M × IVF4096 cost about 8 Lloyd iterations)
 * @param ivfSolver MLlib {@code KMeans.solver} for the IVF: {@code auto} (MLlib's choice), {@code row} or {@code
 *     block} (distances of a block of rows to all centres with one GEMM: 2.3–2.5× less CPU at 50k × IVF1024, and
 *     what lets 1M × IVF4096 train in 10 minutes on two cores; docs/benchmarks.md, "Issue 12")
 * @param ivfTraining how the IVF centroids are trained: {@code flat} (one MLlib k-means with k = nlist), {@code
 *     two-level} (faiss/contrib/clustering.py {@code two_level_clustering}: MLlib k-means on ≈ √nlist clusters, then
 *     a k-means inside each, sized by population, in parallel Spark tasks) or {@code auto}: two-level from {@link
 *     #TWO_LEVEL_AUTO_MIN_NLIST} lists on, flat below (every spec up to IVF4096 trains flat, as before)
 */
public record QuantizerConfig(
    String spec, String metric, long seed, int maxIter, double tol, int maxPointsPerCentroid, int opqIterations,
    String ivfInit, String ivfSolver, String ivfTraining)
    implements ConfigSection {

  public static final Set<String> METRICS = Set.of("ip", "l2");
  public static final Set<String> IVF_INITS = Set.of("k-means||", "random");
  public static final Set<String> IVF_SOLVERS = Set.of("auto", "row", "block");
  public static final Set<String> IVF_TRAININGS = Set.of("flat", "two-level", "auto");

  /**
   * {@code ivfTraining: auto} trains two-level from this nlist on. A flat k-means pass costs sample × nlist × d =
   * {@code 256 · nlist² · d} multiply-adds with FAISS's sample cap (quadratic in nlist): 1.6·10¹² at IVF4096 × 384,
   * 2.6·10¹³ at IVF16384 and 4.2·10¹⁴ at IVF65536; two-level divides it by about √nlist / 2 (level 1: k = √nlist
   * over the sample; level 2: each vector meets only the ≈ √nlist centroids of its level-1 cluster). Measured
   * (docs/benchmarks.md, "Build cost vs FAISS", 2026-12-07), two-level against MLlib's flat k-means on the same
   * vectors: 100k × IVF1024 IVF MSE 0.3240 vs 0.3289 (FAISS 0.3259), R@10 0.652 vs 0.642 (FAISS 0.650; 10,000
   * queries), IVF step as fast; 1M × IVF4096 IVF MSE 0.2624 vs 0.2625, IVF step 118 s vs 545 s. Below 1,024 lists
   * (the level-1 k would be under 32) flat is kept: not measured at scale, and cheap there.
   */
  public static final int TWO_LEVEL_AUTO_MIN_NLIST = 1_024;

  /** Whether {@code ivfTraining} (flat, two-level or auto) trains the {@code nlist} centroids in two levels. */
  public static boolean twoLevel(String ivfTraining, int nlist) {
    return switch (ivfTraining) {
      case "flat" -> false;
      case "two-level" -> true;
      case "auto" -> nlist >= TWO_LEVEL_AUTO_MIN_NLIST;
      default -> throw new IllegalArgumentException("ivfTraining must be one of " + IVF_TRAININGS + ", got '"
          + ivfTraining + "'");
    };
  }

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
    v.check(IVF_INITS.contains(ivfInit), path + ".ivfInit", "must be one of " + IVF_INITS + ", got '" + ivfInit + "'");
    v.check(IVF_SOLVERS.contains(ivfSolver), path + ".ivfSolver",
        "must be one of " + IVF_SOLVERS + ", got '" + ivfSolver + "'");
    v.check(IVF_TRAININGS.contains(ivfTraining), path + ".ivfTraining",
        "must be one of " + IVF_TRAININGS + ", got '" + ivfTraining + "'");
  }
}
