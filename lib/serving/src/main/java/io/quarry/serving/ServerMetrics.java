package io.quarry.serving;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/**
 * The server's Prometheus metrics (operational counters and latencies; the IR measures are
 * {@code io.quarry.core.eval.Metrics}), kept in a Prometheus Java client registry of its own (one per server, so
 * several servers in one JVM do not collide) and exposed by {@code GET /metrics} through the client's exposition code:
 *
 * <ul>
 *   <li>{@code quarry_requests_total{endpoint,code}}, {@code quarry_request_errors_total} (4xx and 5xx),
 *       {@code quarry_request_deadline_closes_total} (connections closed with incomplete request headers at the
 *       request deadline: no request to count);
 *   <li>{@code quarry_search_stage_seconds{stage}}: latency histogram per search stage, {@code total} = whole request;
 *   <li>{@code quarry_index_version_info{version}} (1 for the served version), {@code quarry_reload_failures_total},
 *       {@code quarry_reload_failing} (1 while {@code CURRENT} names a version that could not be loaded),
 *       {@code quarry_index_source_up} (0 while the last reload failed because the source could not be reached),
 *       {@code quarry_last_successful_reload_timestamp_seconds}, {@code quarry_seconds_since_last_successful_reload},
 *       {@code quarry_index_loaded_timestamp_seconds};
 *   <li>{@code quarry_search_queue_depth}: searches waiting for a search thread;
 *   <li>the client's JVM metrics ({@code jvm_memory_*}, {@code jvm_gc_*}, {@code jvm_threads_*}, …).
 * </ul>
 *
 * Thread-safe.
 */
public final class ServerMetrics {
  /** Histogram bucket upper bounds in seconds. */
  static final double[] BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter requests;
  private final Counter errors;
  private final Counter deadlineCloses;
  private final Histogram stages;

  /** A registry with the request metrics and the JVM metrics. */
  public ServerMetrics() {
    requests = Counter.builder().name("quarry_requests").help("HTTP requests by endpoint and status code.")
        .labelNames("endpoint", "code").register(registry);
    errors = Counter.builder().name("quarry_request_errors").help("HTTP requests answered with a 4xx or 5xx status.")
        .register(registry);
    deadlineCloses = Counter.builder().name("quarry_request_deadline_closes")
        .help("Connections closed because their request headers were not complete within the request timeout "
            + "(a body that is late is answered 408 and counted in quarry_requests_total).").register(registry);
    stages = Histogram.builder().name("quarry_search_stage_seconds")
        .help("Search latency per stage in seconds (total = whole request).").unit(Unit.SECONDS)
        .labelNames("stage").classicOnly().classicUpperBounds(BUCKETS).register(registry);
    JvmMetrics.builder().register(registry);
  }

  /** The registry (for the scrape handler and tests). */
  public PrometheusRegistry registry() {
    return registry;
  }

  /** Counts one request to {@code endpoint} answered with HTTP {@code status}. */
  public void request(String endpoint, int status) {
    requests.labelValues(endpoint, Integer.toString(status)).inc();
    if (status >= 400) {
      errors.inc();
    }
  }

  /** Counts one connection closed at the request deadline before its headers were complete. */
  public void requestDeadlineClose() {
    deadlineCloses.inc();
  }

  /** Records {@code nanos} of stage {@code stage} ({@code total} for whole search requests). */
  public void stage(String stage, long nanos) {
    stages.labelValues(stage).observe(nanos / 1e9);
  }

  /** Registers the index metrics, read from {@code holder} at scrape time. */
  void bindIndex(IndexHolder holder) {
    registry.register(new Collector() {
      @Override
      public MetricSnapshot collect() {
        InfoSnapshot.Builder b = InfoSnapshot.builder().name("quarry_index_version")
            .help("The index version being served (value 1).");
        String v = holder.status().version();
        if (v != null) {
          b.dataPoint(InfoSnapshot.InfoDataPointSnapshot.builder().labels(Labels.of("version", v)).build());
        }
        return b.build();
      }

      @Override
      public String getPrometheusName() {
        return "quarry_index_version";
      }
    });
    CounterWithCallback.builder().name("quarry_reload_failures")
        .help("Failed index reload attempts (a failed version counts once; an unreadable CURRENT or an unreachable source on every poll).")
        .callback(c -> c.call(holder.reloadFailures())).register(registry);
    GaugeWithCallback.builder().name("quarry_reload_failing")
        .help("1 while CURRENT names a version that could not be loaded (the previous one keeps serving), else 0.")
        .callback(c -> c.call(holder.reloadFailing() ? 1 : 0)).register(registry);
    GaugeWithCallback.builder().name("quarry_index_source_up")
        .help("0 while the last reload failed because the index source (S3) could not be reached or timed out "
            + "(retried every poll; the loaded version keeps serving), else 1.")
        .callback(c -> c.call(holder.sourceAvailable() ? 1 : 0)).register(registry);
    GaugeWithCallback.builder().name("quarry_last_successful_reload_timestamp_seconds")
        .help("When CURRENT was last read and found served (loaded or already serving), Unix time; 0 if never.")
        .callback(c -> c.call(holder.lastSuccessfulReloadMillis() / 1000.0)).register(registry);
    GaugeWithCallback.builder().name("quarry_seconds_since_last_successful_reload")
        .help("Seconds since CURRENT was last read and found served; grows while reloads fail; -1 if never.")
        .callback(c -> {
          long t = holder.lastSuccessfulReloadMillis();
          c.call(t == 0 ? -1 : (System.currentTimeMillis() - t) / 1000.0);
        }).register(registry);
    GaugeWithCallback.builder().name("quarry_index_loaded_timestamp_seconds")
        .help("When the served index version was loaded, Unix time; 0 if none.")
        .callback(c -> c.call(holder.loadedAtMillis() / 1000.0)).register(registry);
  }

  /** Registers {@code quarry_search_queue_depth}. */
  void bindQueue(IntSupplier depth) {
    GaugeWithCallback.builder().name("quarry_search_queue_depth")
        .help("Search requests waiting for a search thread.")
        .callback(c -> c.call(depth.getAsInt())).register(registry);
  }

  /** The Prometheus text exposition (format 0.0.4) of every metric, for tests and tools. */
  public String render() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      PrometheusTextFormatWriter.create().write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
