/**
 * Vector quantization, Spark-free: the index spec in FAISS notation ({@link io.quarry.core.quant.IndexSpec}), the
 * trained model with OPQ rotation, IVF centroids and residual PQ codebooks and its versioned file format ({@link
 * io.quarry.core.quant.QuantizerModel}), ADC search over inverted lists ({@link io.quarry.core.quant.IvfPqSearcher}),
 * an in-memory trainer ({@link io.quarry.core.quant.QuantizerTrainer}) and the mergeable statistics the Spark trainer
 * aggregates ({@link io.quarry.core.quant.PqLloydStats}, {@link io.quarry.core.quant.OpqStats}, {@link
 * io.quarry.core.quant.EncodingStats}).
 *
 * <p>References: Jégou, Douze, Schmid, "Product Quantization for Nearest Neighbor Search", TPAMI 2011 (PQ, IVFADC);
 * Ge, He, Ke, Sun, "Optimized Product Quantization for Approximate Nearest Neighbor Search", CVPR 2013 (OPQ); Johnson,
 * Douze, Jégou, "Billion-scale similarity search with GPUs" / FAISS (index-factory notation, defaults).
 */
package io.quarry.core.quant;
