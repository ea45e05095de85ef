package io.quarry.serving;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * Server metrics in the Prometheus text exposition format (version 0.0.4): request and error counters by endpoint
 * and status, and latency histograms (seconds) per search stage and for whole requests. Lock-free.
 */
public final class Metrics {
  /** Histogram bucket upper bounds in seconds. */
  static final double[] BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  private final Map<String, AtomicLong> requests = new ConcurrentHashMap<>();
  private final Map<String, Histogram> latency = new ConcurrentHashMap<>();

  static final class Histogram {
    final AtomicLongArray counts = new AtomicLongArray(BUCKETS.length + 1);
    final DoubleAdder sum = new DoubleAdder();

    void observe(double seconds) {
      int i = 0;
      while (i < BUCKETS.length && seconds > BUCKETS[i]) {
        i++;
      }
      counts.incrementAndGet(i);
      sum.add(seconds);
    }
  }

  /** Counts one request to {@code endpoint} answered with HTTP {@code status}. */
  public void request(String endpoint, int status) {
    requests.computeIfAbsent(endpoint + "\u0000" + status, k -> new AtomicLong()).incrementAndGet();
  }

  /** Records {@code nanos} of stage {@code stage} ({@code total} for whole search requests). */
  public void stage(String stage, long nanos) {
    latency.computeIfAbsent(stage, k -> new Histogram()).observe(nanos / 1e9);
  }

  /** The exposition text. */
  public String render() {
    StringBuilder sb = new StringBuilder();
    sb.append("# HELP quarry_requests_total HTTP requests by endpoint and status code.\n");
    sb.append("# TYPE quarry_requests_total counter\n");
    long errors = 0;
    for (Map.Entry<String, AtomicLong> e : new java.util.TreeMap<>(requests).entrySet()) {
      String[] p = e.getKey().split("\u0000");
      sb.append("quarry_requests_total{endpoint=\"").append(p[0]).append("\",code=\"").append(p[1]).append("\"} ")
          .append(e.getValue().get()).append('\n');
      if (Integer.parseInt(p[1]) >= 400) {
        errors += e.getValue().get();
      }
    }
    sb.append("# HELP quarry_request_errors_total HTTP requests answered with a 4xx or 5xx status.\n");
    sb.append("# TYPE quarry_request_errors_total counter\n");
    sb.append("quarry_request_errors_total ").append(errors).append('\n');
    sb.append("# HELP quarry_search_stage_seconds Search latency per stage (total = whole request).\n");
    sb.append("# TYPE quarry_search_stage_seconds histogram\n");
    for (Map.Entry<String, Histogram> e : new java.util.TreeMap<>(latency).entrySet()) {
      Histogram h = e.getValue();
      long cum = 0;
      for (int i = 0; i <= BUCKETS.length; i++) {
        cum += h.counts.get(i);
        String le = i == BUCKETS.length ? "+Inf" : Double.toString(BUCKETS[i]);
        sb.append("quarry_search_stage_seconds_bucket{stage=\"").append(e.getKey()).append("\",le=\"").append(le)
            .append("\"} ").append(cum).append('\n');
      }
      sb.append("quarry_search_stage_seconds_sum{stage=\"").append(e.getKey()).append("\"} ").append(h.sum.sum())
          .append('\n');
      sb.append("quarry_search_stage_seconds_count{stage=\"").append(e.getKey()).append("\"} ").append(cum)
          .append('\n');
    }
    return sb.toString();
  }
}
