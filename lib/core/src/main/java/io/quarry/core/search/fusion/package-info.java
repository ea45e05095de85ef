/**
 * Fusion of several retrieval signals into one ranking, after every candidate has every signal's score: a {@link
 * io.quarry.core.search.fusion.Fusion} is one record per method (e.g. {@link io.quarry.core.search.fusion.Rrf},
 * {@link io.quarry.core.search.fusion.ConvexCombination}) over {@link io.quarry.core.search.fusion.Signal}s, with the
 * per-query {@link io.quarry.core.search.fusion.Normalization}s separate, and each method's parsing, tuning grid and
 * summary in its {@link io.quarry.core.search.fusion.FusionMethod}, registered by name in {@link
 * io.quarry.core.search.fusion.FusionMethods}. Spark-free and independent of the index: it sees arrays of scores.
 */
package io.quarry.core.search.fusion;
