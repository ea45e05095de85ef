/**
 * The Spark-free search server: {@link io.quarry.serving.ServeMain} (CLI), {@link io.quarry.serving.SearchServer}
 * (HTTP JSON API on the JDK server), {@link io.quarry.serving.SearchApi} (request/response contract),
 * {@link io.quarry.serving.IndexHolder} (the served version, reload on {@code CURRENT} change),
 * {@link io.quarry.serving.LocalIndexSource} / {@link io.quarry.serving.S3IndexSource}, {@link io.quarry.serving.ServerMetrics}
 * (Prometheus text), {@link io.quarry.embed.OnnxCrossEncoder} (optional re-ranking stage) and
 * {@link io.quarry.serving.ServeBench} (latency benchmark).
 */
package io.quarry.serving;
