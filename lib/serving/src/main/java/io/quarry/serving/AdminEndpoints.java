package io.quarry.serving;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prometheus.metrics.exporter.common.PrometheusScrapeHandler;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The endpoints of the admin port (also answered on the search port): {@code GET /health} (liveness, the served
 * version, reload failures), {@code GET /ready} (200 while a version serves, else 503) and {@code GET /metrics}
 * (Prometheus exposition of {@link ServerMetrics}).
 */
final class AdminEndpoints {
  private final IndexHolder holder;
  private final ServerMetrics metrics;
  private final PrometheusScrapeHandler scrape;
  private final Responses responses;

  AdminEndpoints(IndexHolder holder, ServerMetrics metrics, Responses responses) {
    this.holder = holder;
    this.metrics = metrics;
    this.scrape = new PrometheusScrapeHandler(metrics.registry());
    this.responses = responses;
  }

  /** Answers {@code endpoint} ({@code health}, {@code ready} or {@code metrics}) to a GET or HEAD. */
  void handle(String endpoint, Request req, Response res, Callback cb) throws IOException {
    switch (endpoint) {
      case "health" -> responses.send(res, cb, endpoint, 200, SearchApi.JSON.writeValueAsBytes(health()));
      case "ready" -> ready(res, cb);
      case "metrics" -> metricsText(req, res, cb);
      default -> throw new IllegalArgumentException(endpoint);
    }
  }

  ObjectNode health() {
    IndexHolder.Status s = holder.status();
    ObjectNode o = SearchApi.JSON.createObjectNode();
    o.put("status", s.lastReloadError() == null && s.ready() ? "ok" : "degraded");
    o.put("ready", s.ready());
    o.put("version", s.version());
    if (s.reason() != null) {
      o.put("reason", s.reason());
    }
    if (s.lastReloadError() != null) {
      o.put("lastReloadError", s.lastReloadError());
      o.put("failedVersion", s.failedVersion());
    }
    o.put("sourceAvailable", s.sourceAvailable());
    o.put("reloadFailures", s.reloadFailures());
    long t = holder.lastSuccessfulReloadMillis();
    if (t > 0) {
      o.put("secondsSinceLastSuccessfulReload", (System.currentTimeMillis() - t) / 1000.0);
    }
    return o;
  }

  void ready(Response res, Callback cb) throws IOException {
    IndexHolder.Status s = holder.status();
    ObjectNode o = SearchApi.JSON.createObjectNode().put("ready", s.ready()).put("version", s.version());
    if (s.reason() != null) {
      o.put("reason", s.reason());
    }
    if (s.lastReloadError() != null) {
      o.put("lastReloadError", s.lastReloadError());
    }
    responses.send(res, cb, "ready", s.ready() ? 200 : 503, SearchApi.JSON.writeValueAsBytes(o));
  }

  void metricsText(Request req, Response res, Callback cb) throws IOException {
    ScrapeExchange ex = new ScrapeExchange(req); // HEAD is scraped as GET: same headers (Jetty drops the body)
    scrape.handleRequest(ex);
    res.setStatus(ex.status);
    for (Map.Entry<String, String> h : ex.headers.entrySet()) {
      res.getHeaders().put(h.getKey(), h.getValue());
    }
    byte[] b = ex.body.toByteArray();
    res.getHeaders().put(HttpHeader.CONTENT_LENGTH, b.length);
    metrics.request("metrics", ex.status);
    res.write(true, ByteBuffer.wrap(b), cb);
  }
}
