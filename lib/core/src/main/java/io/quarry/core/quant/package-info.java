/**
 * Vector quantization, Spark-free. This package is the model's public API: the index spec in FAISS notation ({@link
 * io.quarry.core.quant.IndexSpec}), the {@link io.quarry.core.quant.DistanceMetric}, and the trained model ({@link
 * io.quarry.core.quant.QuantizerModel}: OPQ rotation, IVF centroids and residual PQ codebooks). Sub-packages, each
 * depending only on those listed before it:
 *
 * <ul>
 *   <li>{@code kernel}: numeric kernels (nearest centroid, fixed-order dot products, Vector API paths);
 *   <li>{@code component}: the model's parts ({@code VectorTransform}, {@code CoarseQuantizer}, {@code
 *       ProductQuantizer});
 *   <li>(this package) the composite model;
 *   <li>{@code format}: the bytes of a model ({@code QuantizerFormat}, the version-1 reader) and fvecs/ivecs;
 *   <li>{@code ivf}: inverted lists and the ADC scans ({@code IvfPqSearcher}, {@code LutScan});
 *   <li>{@code train}: the in-memory trainer and the mergeable statistics the Spark trainer aggregates.
 * </ul>
 *
 * <p>References: Jégou, Douze, Schmid, "Product Quantization for Nearest Neighbor Search", TPAMI 2011 (PQ, IVFADC);
 * Ge, He, Ke, Sun, "Optimized Product Quantization for Approximate Nearest Neighbor Search", CVPR 2013 (OPQ); Johnson,
 * Douze, Jégou, "Billion-scale similarity search with GPUs" / FAISS (index-factory notation, defaults).
 */
package io.quarry.core.quant;
