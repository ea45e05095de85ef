package io.quarry.serving;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prometheus.metrics.exporter.common.PrometheusHttpExchange;
import io.prometheus.metrics.exporter.common.PrometheusHttpRequest;
import io.prometheus.metrics.exporter.common.PrometheusHttpResponse;
import io.prometheus.metrics.exporter.common.PrometheusScrapeHandler;
import io.quarry.core.search.HybridSearcher;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP JSON API on Jetty 12 (core handler API, no servlets):
 *
 * <ul>
 *   <li>{@code POST /search}: {@link SearchApi} request → hits (200); 400 on a bad request, 413 on a body over the
 *       limit, 408 when the body does not arrive within the idle timeout, 503 when no index version is loaded or the
 *       search queue is full ({@code Retry-After: 1});
 *   <li>{@code GET /health}: 200 while the process runs, with the served version and any pending reload failure
 *       ({@code "status": "ok"} or {@code "degraded"});
 *   <li>{@code GET /ready}: 200 {@code {"ready":true,"version":…}} while a valid version serves (also while the last
 *       reload failed: the failure is in {@code lastReloadError}); 503 only when no version is loaded;
 *   <li>{@code GET /metrics}: Prometheus exposition ({@link Metrics}; text format 0.0.4 unless the scraper asks for
 *       another).
 * </ul>
 *
 * {@code HEAD} is answered like {@code GET} on the GET endpoints (headers only); any other method gets 405 with
 * {@code Allow}; other paths 404. Error bodies are {@code {"error": message}} and never hold local paths.
 *
 * <p>Isolation: request bodies are read asynchronously (a stalled or slow client holds a connection, never a
 * thread) and a connection idle for {@link Options#idleTimeoutMs} is closed; searches run on their own pool of
 * {@link Options#searchThreads} threads behind a queue of {@link Options#queueCapacity} (503 when full), so
 * {@code /health}, {@code /ready} and {@code /metrics}, answered on Jetty's threads, never wait behind searches.
 * {@link #close()} stops accepting, lets in-flight requests finish (up to {@link Options#stopTimeoutMs}) and stops.
 * Nothing from a request reaches the filesystem: versions come only from {@code CURRENT}.
 */
public final class SearchServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SearchServer.class);
  private static final String JSON_TYPE = "application/json; charset=utf-8";

  /**
   * Server limits.
   *
   * @param searchThreads threads running searches (ONNX query embedding + search), ≥ 1
   * @param queueCapacity searches waiting for a thread before new ones get 503, ≥ 1
   * @param idleTimeoutMs a connection with no bytes read or written for this long is closed (milliseconds; bounds
   *     how long a stalled request body or an idle keep-alive connection is kept), ≥ 1
   * @param maxConnections open connections at most; beyond, the server stops accepting until one closes
   * @param stopTimeoutMs how long {@link #close()} waits for in-flight requests (milliseconds)
   */
  public record Options(int searchThreads, int queueCapacity, long idleTimeoutMs, int maxConnections,
      long stopTimeoutMs) {
    public Options {
      if (searchThreads < 1 || queueCapacity < 1 || idleTimeoutMs < 1 || maxConnections < 1 || stopTimeoutMs < 0) {
        throw new IllegalArgumentException("invalid server options: " + searchThreads + " threads, queue "
            + queueCapacity + ", idle timeout " + idleTimeoutMs + " ms, " + maxConnections + " connections");
      }
    }

    /** {@code threads} search threads, queue 64, idle timeout 5 s, 1,024 connections, 10 s to stop. */
    public static Options defaults(int threads) {
      return new Options(threads, 64, 5_000, 1024, 10_000);
    }
  }

  private final Server server;
  private final ServerConnector connector;
  private final ThreadPoolExecutor searchPool;
  private final IndexHolder holder;
  private final Metrics metrics = new Metrics();
  private final PrometheusScrapeHandler scrape;
  private final SearchApi.Limits limits;

  /** As {@link #SearchServer(String, int, IndexHolder, SearchApi.Limits, Options)} with default options. */
  public SearchServer(String host, int port, int threads, IndexHolder holder, SearchApi.Limits limits)
      throws IOException {
    this(host, port, holder, limits, Options.defaults(threads));
  }

  /**
   * Binds {@code host:port} (port 0 picks a free port) and starts serving.
   *
   * @throws IOException if the address cannot be bound
   */
  public SearchServer(String host, int port, IndexHolder holder, SearchApi.Limits limits, Options options)
      throws IOException {
    this.holder = holder;
    this.limits = limits;
    AtomicInteger n = new AtomicInteger();
    this.searchPool = new ThreadPoolExecutor(options.searchThreads(), options.searchThreads(), 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(options.queueCapacity()), r -> {
          Thread t = new Thread(r, "quarry-search-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        }, new ThreadPoolExecutor.AbortPolicy());
    metrics.bindIndex(holder);
    metrics.bindQueue(this::queuedSearches);
    this.scrape = new PrometheusScrapeHandler(metrics.registry());

    // Jetty's own threads only parse requests, answer health/ready/metrics and hand searches over: a small pool.
    QueuedThreadPool jettyThreads = new QueuedThreadPool(16, 4, 60_000);
    jettyThreads.setName("quarry-http");
    jettyThreads.setDaemon(true);
    server = new Server(jettyThreads);
    HttpConfiguration hc = new HttpConfiguration();
    hc.setSendServerVersion(false);
    hc.setSendXPoweredBy(false);
    hc.setRequestHeaderSize(8192);
    hc.setIdleTimeout(options.idleTimeoutMs());
    connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(hc));
    connector.setHost(host);
    connector.setPort(port);
    connector.setIdleTimeout(options.idleTimeoutMs());
    connector.setAcceptQueueSize(128);
    server.addConnector(connector);
    server.addBean(new NetworkConnectionLimit(options.maxConnections(), connector));
    server.setHandler(new GracefulHandler(new Api()));
    server.setErrorHandler(new JsonErrorHandler());
    server.setStopTimeout(options.stopTimeoutMs());
    server.setStopAtShutdown(false);
    try {
      server.start();
    } catch (Exception e) {
      searchPool.shutdownNow();
      try {
        server.stop();
      } catch (Exception ignored) {
        // already failing
      }
      throw e instanceof IOException io ? io : new IOException("cannot start the HTTP server on " + host + ":" + port
          + ": " + e.getMessage(), e);
    }
    LOG.info("listening on http://{}:{} ({} search threads, queue {}, idle timeout {} ms)", host, port(),
        options.searchThreads(), options.queueCapacity(), options.idleTimeoutMs());
  }

  /** The bound port. */
  public int port() {
    return connector.getLocalPort();
  }

  public Metrics metrics() {
    return metrics;
  }

  /** Searches waiting for a search thread. */
  public int queuedSearches() {
    return searchPool.getQueue().size();
  }

  /** Routes requests; runs on Jetty's threads and never blocks on a search or on a request body. */
  private final class Api extends Handler.Abstract {
    @Override
    public boolean handle(Request req, Response res, Callback cb) {
      String path = Request.getPathInContext(req);
      String method = req.getMethod();
      String endpoint = switch (path) {
        case "/search", "/health", "/ready", "/metrics" -> path.substring(1);
        default -> "other";
      };
      boolean get = "GET".equals(method) || "HEAD".equals(method);
      try {
        switch (endpoint) {
          case "search" -> {
            if ("POST".equals(method)) {
              search(req, res, cb);
            } else {
              methodNotAllowed(res, cb, endpoint, "POST");
            }
          }
          case "health" -> {
            if (get) {
              send(res, cb, endpoint, 200, SearchApi.JSON.writeValueAsBytes(health()));
            } else {
              methodNotAllowed(res, cb, endpoint, "GET, HEAD");
            }
          }
          case "ready" -> {
            if (get) {
              ready(res, cb);
            } else {
              methodNotAllowed(res, cb, endpoint, "GET, HEAD");
            }
          }
          case "metrics" -> {
            if (get) {
              metricsText(req, res, cb);
            } else {
              methodNotAllowed(res, cb, endpoint, "GET, HEAD");
            }
          }
          default -> send(res, cb, endpoint, 404,
              SearchApi.error("not found: use POST /search, GET /health, /ready, /metrics"));
        }
      } catch (Exception | Error e) {
        internalError(req, res, cb, endpoint, e);
      }
      return true;
    }
  }

  private void internalError(Request req, Response res, Callback cb, String endpoint, Throwable e) {
    LOG.error("{} {} failed", req.getMethod(), Request.getPathInContext(req), e);
    if (res.isCommitted()) {
      metrics.request(endpoint, 500);
      cb.failed(e);
    } else {
      send(res, cb, endpoint, 500, SearchApi.error("internal error: " + e.getClass().getSimpleName()));
    }
  }

  private ObjectNode health() {
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
    o.put("reloadFailures", s.reloadFailures());
    long t = holder.lastSuccessfulReloadMillis();
    if (t > 0) {
      o.put("secondsSinceLastSuccessfulReload", (System.currentTimeMillis() - t) / 1000.0);
    }
    return o;
  }

  private void ready(Response res, Callback cb) throws IOException {
    IndexHolder.Status s = holder.status();
    ObjectNode o = SearchApi.JSON.createObjectNode().put("ready", s.ready()).put("version", s.version());
    if (s.reason() != null) {
      o.put("reason", s.reason());
    }
    if (s.lastReloadError() != null) {
      o.put("lastReloadError", s.lastReloadError());
    }
    send(res, cb, "ready", s.ready() ? 200 : 503, SearchApi.JSON.writeValueAsBytes(o));
  }

  private void search(Request req, Response res, Callback cb) {
    long t0 = System.nanoTime();
    long declared = req.getLength();
    if (declared > limits.maxBodyBytes()) { // refused before reading a byte of it
      send(res, cb, "search", 413, SearchApi.error("request body larger than " + limits.maxBodyBytes() + " bytes"));
      return;
    }
    Content.Source.asByteArrayAsync(req, limits.maxBodyBytes()).whenComplete((body, failure) -> {
      if (failure != null) {
        bodyFailed(req, res, cb, failure);
        return;
      }
      try {
        searchPool.execute(() -> {
          try {
            runSearch(body, t0, res, cb);
          } catch (Exception | Error e) {
            internalError(req, res, cb, "search", e);
          }
        });
      } catch (RejectedExecutionException e) {
        res.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
        send(res, cb, "search", 503, SearchApi.error("overloaded: " + searchPool.getQueue().size()
            + " searches queued; retry later"));
      }
    });
  }

  private void bodyFailed(Request req, Response res, Callback cb, Throwable failure) {
    Throwable c = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    if (Request.getContentBytesRead(req) > limits.maxBodyBytes() || c instanceof IllegalArgumentException) {
      send(res, cb, "search", 413, SearchApi.error("request body larger than " + limits.maxBodyBytes() + " bytes"));
    } else if (c instanceof java.util.concurrent.TimeoutException) {
      send(res, cb, "search", 408, SearchApi.error("request body not received within the idle timeout"));
    } else {
      LOG.debug("reading a request body failed", c);
      metrics.request("search", 400);
      cb.failed(c); // the connection is gone or broken; Jetty closes it
    }
  }

  private void runSearch(byte[] body, long t0, Response res, Callback cb) throws IOException {
    HybridSearcher.Request req;
    try {
      req = SearchApi.parse(body, limits);
    } catch (SearchApi.BadRequest e) {
      send(res, cb, "search", 400, SearchApi.error(e.getMessage()));
      return;
    }
    LoadedIndex li = holder.acquire();
    if (li == null) {
      send(res, cb, "search", 503, SearchApi.error("not ready: " + holder.status().reason()));
      return;
    }
    try {
      HybridSearcher.Result result;
      try {
        result = li.searcher().search(req);
      } catch (IllegalArgumentException e) {
        send(res, cb, "search", 400, SearchApi.error(ClientMessages.redact(e.getMessage())));
        return;
      }
      long took = System.nanoTime() - t0;
      for (Map.Entry<String, Long> e : result.stageNanos().entrySet()) {
        metrics.stage(e.getKey(), e.getValue());
      }
      metrics.stage("total", took);
      ObjectNode o = SearchApi.response(li.version().manifest().version(), req, result, took);
      send(res, cb, "search", 200, SearchApi.JSON.writeValueAsBytes(o));
    } finally {
      li.release();
    }
  }

  private void metricsText(Request req, Response res, Callback cb) throws IOException {
    ScrapeExchange ex = new ScrapeExchange(req);
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

  private void methodNotAllowed(Response res, Callback cb, String endpoint, String allowed) {
    res.getHeaders().put(HttpHeader.ALLOW, allowed);
    send(res, cb, endpoint, 405, SearchApi.error("method not allowed; use " + allowed));
  }

  /** Sends a complete JSON response (the body is dropped for HEAD by Jetty) and counts it. */
  private void send(Response res, Callback cb, String endpoint, int status, byte[] body) {
    res.setStatus(status);
    res.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON_TYPE);
    res.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    metrics.request(endpoint, status);
    res.write(true, ByteBuffer.wrap(body), cb);
  }

  /** The Prometheus client's scrape handler over a Jetty request, the response buffered. */
  private static final class ScrapeExchange implements PrometheusHttpExchange {
    final Request req;
    final Map<String, String> headers = new java.util.LinkedHashMap<>();
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    int status = 200;

    ScrapeExchange(Request req) {
      this.req = req;
    }

    @Override
    public PrometheusHttpRequest getRequest() {
      return new PrometheusHttpRequest() {
        @Override
        public String getQueryString() {
          return req.getHttpURI().getQuery();
        }

        @Override
        public Enumeration<String> getHeaders(String name) {
          List<String> v = req.getHeaders().getValuesList(name);
          return Collections.enumeration(v);
        }

        @Override
        public String getMethod() {
          return req.getMethod();
        }

        @Override
        public String getRequestPath() {
          return Request.getPathInContext(req);
        }

        @Override
        public String[] getParameterValues(String name) {
          Fields f = Request.extractQueryParameters(req);
          List<String> v = f.getValues(name);
          return v == null || v.isEmpty() ? null : v.toArray(String[]::new);
        }
      };
    }

    @Override
    public PrometheusHttpResponse getResponse() {
      return new PrometheusHttpResponse() {
        @Override
        public void setHeader(String name, String value) {
          headers.put(name, value);
        }

        @Override
        public OutputStream sendHeadersAndGetBody(int statusCode, int contentLength) {
          status = statusCode;
          return body;
        }
      };
    }

    @Override
    public void handleException(IOException e) throws IOException {
      throw e;
    }

    @Override
    public void handleException(RuntimeException e) {
      throw e;
    }

    @Override
    public void close() {}
  }

  /** Jetty's own error responses (malformed requests, headers too large, …) as {@code {"error": …}} JSON. */
  private static final class JsonErrorHandler extends ErrorHandler {
    JsonErrorHandler() {
      setShowStacks(false);
      setShowCauses(false);
    }

    @Override
    protected boolean generateAcceptableResponse(Request request, Response response, Callback callback,
        String contentType, List<Charset> charsets, int code, String message, Throwable cause) {
      String text = message == null ? org.eclipse.jetty.http.HttpStatus.getMessage(code) : message;
      byte[] b = SearchApi.error(ClientMessages.redact(text));
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON_TYPE);
      response.getHeaders().put(HttpHeader.CONTENT_LENGTH, b.length);
      response.write(true, ByteBuffer.wrap(b), callback);
      return true;
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
      String text = reason == null ? org.eclipse.jetty.http.HttpStatus.getMessage(status) : reason;
      fields.put(new HttpField(HttpHeader.CONTENT_TYPE, JSON_TYPE));
      return ByteBuffer.wrap(SearchApi.error(ClientMessages.redact(text)));
    }
  }

  /**
   * Stops gracefully: no new connections or requests, in-flight requests finish (up to the stop timeout), then the
   * search threads stop.
   */
  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      LOG.warn("stopping the HTTP server: {}", e.toString());
    }
    searchPool.shutdown();
    try {
      if (!searchPool.awaitTermination(5, TimeUnit.SECONDS)) {
        searchPool.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      searchPool.shutdownNow();
    }
  }
}
