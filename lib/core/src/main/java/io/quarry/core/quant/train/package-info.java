/**
 * Training: the in-memory trainer ({@link io.quarry.core.quant.train.QuantizerTrainer}, with {@link
 * io.quarry.core.quant.train.KMeans}) that unit tests and small corpora use, and the mergeable per-partition
 * statistics that the Spark trainer aggregates with the same step order ({@link
 * io.quarry.core.quant.train.PqLloydStats}, {@link io.quarry.core.quant.train.OpqStats} with {@link
 * io.quarry.core.quant.train.Procrustes}, {@link io.quarry.core.quant.train.EncodingStats}), plus the held-out PQ
 * error estimate ({@link io.quarry.core.quant.train.PqHeldOutError}).
 */
package io.quarry.core.quant.train;
