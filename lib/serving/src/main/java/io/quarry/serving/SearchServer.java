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
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EofException;
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
 *       limit, 415 when the body's {@code Content-Type} is not JSON ({@link #isJson}), 408 when the body does not
 *       arrive within the idle timeout or the request deadline, 503 when no index version is loaded or the search
 *       queue is full ({@code Retry-After: 1});
 *   <li>{@code GET /health}: 200 while the process runs, with the served version and any pending reload failure
 *       ({@code "status": "ok"} or {@code "degraded"});
 *   <li>{@code GET /ready}: 200 {@code {"ready":true,"version":…}} while a valid version serves (also while the last
 *       reload failed: the failure is in {@code lastReloadError}); 503 only when no version is loaded;
 *   <li>{@code GET /metrics}: Prometheus exposition ({@link ServerMetrics}; text format 0.0.4 unless the scraper asks for
 *       another).
 * </ul>
 *
 * {@code HEAD} is answered like {@code GET} on the GET endpoints (same status and headers, no body); any other
 * method gets 405 with {@code Allow}; other paths 404. Error bodies are {@code {"error": message}} and never hold
 * local paths. Every answered request, including those Jetty refuses itself (400 malformed or ambiguous URI, 414,
 * 431), is counted in {@code quarry_requests_total}; every client error (4xx) logs one INFO line, without a stack
 * trace.
 *
 * <p>Isolation: request bodies are read asynchronously (a stalled or slow client holds a connection, never a
 * thread); a connection idle for {@link Options#idleTimeoutMs} is closed, and one that has not delivered a whole
 * request (headers and body) within {@link Options#requestTimeoutMs} is closed too ({@link RequestDeadlines}).
 * Searches run on their own pool of {@link Options#searchThreads} threads behind a queue of
 * {@link Options#queueCapacity} (503 when full), so {@code /health}, {@code /ready} and {@code /metrics}, answered on
 * Jetty's threads, never wait behind searches. With an admin port ({@link Options#adminPort}) they are also served
 * on a connector of their own, which a main connector full of slow clients cannot starve.
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
   * @param requestTimeoutMs a connection must deliver a whole request (headers and body) within this many
   *     milliseconds of being opened or of its previous response, else it is closed (408 if its body was being
   *     read), however steadily it trickles bytes, ≥ 1
   * @param maxConnections open connections on the main port at most; beyond, the server stops accepting there until
   *     one closes (the admin port has its own limit of {@link #ADMIN_CONNECTIONS})
   * @param adminPort port of the admin connector serving only {@code /health}, {@code /ready} and {@code /metrics}
   *     (same host; 0 = any free port), or -1 for none
   * @param stopTimeoutMs how long {@link #close()} waits for in-flight requests (milliseconds)
   * @throws IllegalArgumentException if a value is out of range
   */
  public record Options(int searchThreads, int queueCapacity, long idleTimeoutMs, long requestTimeoutMs,
      int maxConnections, int adminPort, long stopTimeoutMs) {
    /** Connections the admin port accepts at most. */
    public static final int ADMIN_CONNECTIONS = 64;

    public Options {
      if (searchThreads < 1 || queueCapacity < 1 || idleTimeoutMs < 1 || requestTimeoutMs < 1 || maxConnections < 1
          || adminPort < -1 || adminPort > 65535 || stopTimeoutMs < 0) {
        throw new IllegalArgumentException("invalid server options: " + searchThreads + " threads, queue "
            + queueCapacity + ", idle timeout " + idleTimeoutMs + " ms, request timeout " + requestTimeoutMs
            + " ms, " + maxConnections + " connections, admin port " + adminPort);
      }
    }

    /**
     * {@code threads} search threads, queue 64, idle timeout 5 s, request timeout 10 s, 1,024 connections, no admin
     * port, 10 s to stop.
     */
    public static Options defaults(int threads) {
      return new Options(threads, 64, 5_000, 10_000, 1024, -1, 10_000);
    }
  }

  private final Server server;
  private final ServerConnector connector;
  private final ServerConnector admin;
  private final RequestDeadlines deadlines;
  private final ThreadPoolExecutor searchPool;
  private final IndexHolder holder;
  private final ServerMetrics metrics = new ServerMetrics();
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
    deadlines = new RequestDeadlines(options.requestTimeoutMs(), metrics::requestDeadlineClose);
    connector = connector(hc, host, port, options.idleTimeoutMs());
    server.addBean(new NetworkConnectionLimit(options.maxConnections(), connector));
    if (options.adminPort() >= 0) {
      admin = connector(hc, host, options.adminPort(), options.idleTimeoutMs());
      server.addBean(new NetworkConnectionLimit(Options.ADMIN_CONNECTIONS, admin));
    } else {
      admin = null;
    }
    server.setHandler(new GracefulHandler(new Api()));
    server.setErrorHandler(new JsonErrorHandler());
    server.setStopTimeout(options.stopTimeoutMs());
    server.setStopAtShutdown(false);
    try {
      server.start();
    } catch (Exception e) {
      searchPool.shutdownNow();
      deadlines.close();
      try {
        server.stop();
      } catch (Exception ignored) {
        // already failing
      }
      throw e instanceof IOException io ? io : new IOException("cannot start the HTTP server on " + host + ":" + port
          + ": " + e.getMessage(), e);
    }
    LOG.info("listening on http://{}:{}{} ({} search threads, queue {}, idle timeout {} ms, request timeout {} ms)",
        host, port(), admin == null ? "" : ", admin port " + adminPort(), options.searchThreads(),
        options.queueCapacity(), options.idleTimeoutMs(), options.requestTimeoutMs());
  }

  private ServerConnector connector(HttpConfiguration hc, String host, int port, long idleTimeoutMs) {
    ServerConnector c = new ServerConnector(server, 1, 1, new HttpConnectionFactory(hc));
    c.setHost(host);
    c.setPort(port);
    c.setIdleTimeout(idleTimeoutMs);
    c.setAcceptQueueSize(128);
    c.addEventListener(deadlines);
    server.addConnector(c);
    return c;
  }

  /** The bound port. */
  public int port() {
    return connector.getLocalPort();
  }

  /** The bound admin port ({@code /health}, {@code /ready}, {@code /metrics} only), or -1 if there is none. */
  public int adminPort() {
    return admin == null ? -1 : admin.getLocalPort();
  }

  public ServerMetrics metrics() {
    return metrics;
  }

  /** Searches waiting for a search thread. */
  public int queuedSearches() {
    return searchPool.getQueue().size();
  }

  /** Routes requests; runs on Jetty's threads and never blocks on a search or on a request body. */
  private final class Api extends Handler.Abstract {
    @Override
    public boolean handle(Request req, Response res, Callback callback) {
      String path = Request.getPathInContext(req);
      String method = req.getMethod();
      boolean onAdmin = admin != null && req.getConnectionMetaData().getConnector() == admin;
      String endpoint = switch (path) {
        case "/health", "/ready", "/metrics" -> path.substring(1);
        case "/search" -> onAdmin ? "other" : "search";
        default -> "other";
      };
      boolean get = "GET".equals(method) || "HEAD".equals(method);
      Connection conn = req.getConnectionMetaData().getConnection();
      boolean readsBody = "search".equals(endpoint) && "POST".equals(method);
      if (!readsBody) { // bodies of other requests are never read: the request is complete for the deadline
        deadlines.received(conn);
      }
      Callback cb = new Callback.Nested(callback) {
        @Override
        public void succeeded() {
          deadlines.awaitNext(conn); // before the next request on this connection can start
          super.succeeded();
        }
      };
      try {
        switch (endpoint) {
          case "search" -> {
            if ("POST".equals(method)) {
              search(req, res, cb, conn);
            } else {
              methodNotAllowed(req, res, cb, endpoint, "POST");
            }
          }
          case "health" -> {
            if (get) {
              send(res, cb, endpoint, 200, SearchApi.JSON.writeValueAsBytes(health()));
            } else {
              methodNotAllowed(req, res, cb, endpoint, "GET, HEAD");
            }
          }
          case "ready" -> {
            if (get) {
              ready(res, cb);
            } else {
              methodNotAllowed(req, res, cb, endpoint, "GET, HEAD");
            }
          }
          case "metrics" -> {
            if (get) {
              metricsText(req, res, cb);
            } else {
              methodNotAllowed(req, res, cb, endpoint, "GET, HEAD");
            }
          }
          default -> sendError(req, res, cb, endpoint, 404, onAdmin
              ? "not found: the admin port answers GET /health, /ready, /metrics"
              : "not found: use POST /search, GET /health, /ready, /metrics");
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
      sendError(req, res, cb, endpoint, 500, "internal error: " + e.getClass().getSimpleName());
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
    o.put("sourceAvailable", s.sourceAvailable());
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

  /**
   * Whether a {@code POST /search} body with this {@code Content-Type} header is accepted: {@code application/json}
   * and structured-syntax {@code application/*+json} types (any parameters; JSON is UTF-8), and no header at all
   * (clients that send none, e.g. Java's HttpClient without one, meant JSON). Anything else — {@code text/plain},
   * {@code application/x-www-form-urlencoded} (curl's {@code -d} default) — is 415.
   */
  static boolean isJson(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      return true;
    }
    String t = contentType.toLowerCase(java.util.Locale.ROOT);
    int semi = t.indexOf(';');
    t = (semi >= 0 ? t.substring(0, semi) : t).trim();
    return t.equals("application/json") || (t.startsWith("application/") && t.endsWith("+json"));
  }

  private void search(Request req, Response res, Callback cb, Connection conn) {
    long t0 = System.nanoTime();
    if (!isJson(req.getHeaders().get(HttpHeader.CONTENT_TYPE))) { // refused before reading a byte of the body
      deadlines.received(conn);
      sendError(req, res, cb, "search", 415, "unsupported Content-Type: send the request as "
          + "Content-Type: application/json (curl: -H 'Content-Type: application/json')");
      return;
    }
    if (req.getLength() > limits.maxBodyBytes()) { // refused before reading a byte of it
      deadlines.received(conn);
      sendError(req, res, cb, "search", 413, "request body larger than " + limits.maxBodyBytes() + " bytes");
      return;
    }
    deadlines.readingBody(conn);
    new BodyReader(req, limits.maxBodyBytes(), (body, failure) -> {
      deadlines.received(conn);
      if (failure != null) {
        bodyFailed(req, res, cb, failure);
        return;
      }
      try {
        searchPool.execute(() -> {
          try {
            runSearch(req, body, t0, res, cb);
          } catch (Exception | Error e) {
            internalError(req, res, cb, "search", e);
          }
        });
      } catch (RejectedExecutionException e) {
        res.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
        send(res, cb, "search", 503, SearchApi.error("overloaded: " + searchPool.getQueue().size()
            + " searches queued; retry later"));
      }
    }).run();
  }

  /**
   * Reads a request body asynchronously into a byte array of at most {@code max} bytes, then calls {@code done}
   * once with the body or a failure ({@link BodyTooLarge}, {@link java.util.concurrent.TimeoutException} from the
   * idle timeout, or the I/O failure). Unlike Jetty's {@code Content.Source.asByteArrayAsync}, a failed read does
   * not fail the request afterwards (which, once the error response had completed, logged a
   * {@code NullPointerException} stack trace for every 408), so the error answer is the request's only outcome.
   */
  private static final class BodyReader implements Runnable {
    private final Request req;
    private final int max;
    private final java.util.function.BiConsumer<byte[], Throwable> done;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();

    BodyReader(Request req, int max, java.util.function.BiConsumer<byte[], Throwable> done) {
      this.req = req;
      this.max = max;
      this.done = done;
    }

    @Override
    public void run() {
      while (true) {
        Content.Chunk chunk = req.read();
        if (chunk == null) {
          req.demand(this);
          return;
        }
        if (Content.Chunk.isFailure(chunk)) {
          done.accept(null, chunk.getFailure());
          return;
        }
        ByteBuffer b = chunk.getByteBuffer();
        int n = b.remaining();
        if (body.size() + n > max) {
          chunk.release();
          done.accept(null, new BodyTooLarge());
          return;
        }
        byte[] copy = new byte[n];
        b.get(copy);
        body.write(copy, 0, n);
        boolean last = chunk.isLast();
        chunk.release();
        if (last) {
          done.accept(body.toByteArray(), null);
          return;
        }
      }
    }
  }

  /** A request body over the limit. */
  private static final class BodyTooLarge extends Exception {
    BodyTooLarge() {
      super(null, null, false, false);
    }
  }

  private void bodyFailed(Request req, Response res, Callback cb, Throwable failure) {
    if (failure instanceof BodyTooLarge) {
      sendError(req, res, cb, "search", 413, "request body larger than " + limits.maxBodyBytes() + " bytes");
    } else if (failure instanceof java.util.concurrent.TimeoutException) {
      sendError(req, res, cb, "search", 408, "request body not received in time (idle timeout or request "
          + "deadline)");
    } else { // the connection is gone or broken: nobody to answer; Jetty closes it
      LOG.info("client error: {} {} from {}: request body not received: {}", req.getMethod(), pathForLog(req),
          Request.getRemoteAddr(req), failure.toString());
      cb.failed(failure);
    }
  }

  private void runSearch(Request httpReq, byte[] body, long t0, Response res, Callback cb) throws IOException {
    SearchApi.Parsed parsed;
    try {
      parsed = SearchApi.parseRequest(body, limits);
    } catch (SearchApi.BadRequest e) {
      sendError(httpReq, res, cb, "search", 400, e.getMessage());
      return;
    }
    HybridSearcher.Request req = parsed.request();
    LoadedIndex li = holder.acquire();
    if (li == null) {
      sendError(httpReq, res, cb, "search", 503, "not ready: " + holder.status().reason());
      return;
    }
    try {
      HybridSearcher.Result result;
      try {
        result = li.searcher().search(req);
      } catch (IllegalArgumentException e) {
        sendError(httpReq, res, cb, "search", 400, ClientMessages.redact(e.getMessage()));
        return;
      }
      long took = System.nanoTime() - t0;
      for (Map.Entry<String, Long> e : result.stageNanos().entrySet()) {
        metrics.stage(e.getKey(), e.getValue());
      }
      metrics.stage("total", took);
      ObjectNode o = SearchApi.response(li.version().manifest().version(), req, result, took,
          parsed.warnings());
      send(res, cb, "search", 200, SearchApi.JSON.writeValueAsBytes(o));
    } finally {
      li.release();
    }
  }

  private void metricsText(Request req, Response res, Callback cb) throws IOException {
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

  private void methodNotAllowed(Request req, Response res, Callback cb, String endpoint, String allowed) {
    res.getHeaders().put(HttpHeader.ALLOW, allowed);
    sendError(req, res, cb, endpoint, 405, "method not allowed; use " + allowed);
  }

  /** Sends {@code {"error": message}}, counts it, and logs one INFO line for a client error (4xx). */
  private void sendError(Request req, Response res, Callback cb, String endpoint, int status, String message) {
    logClientError(req, status, message);
    send(res, cb, endpoint, status, SearchApi.error(message));
  }

  private static void logClientError(Request req, int status, String message) {
    if (status >= 400 && status < 500) {
      LOG.info("client error: {} {} {} from {}: {}", status, req.getMethod(), pathForLog(req),
          Request.getRemoteAddr(req), message);
    }
  }

  /** The request path for a log line: at most 120 characters, control characters replaced. */
  private static String pathForLog(Request req) {
    String p = req.getHttpURI() == null ? "?" : String.valueOf(req.getHttpURI().getPath());
    p = p.length() > 120 ? p.substring(0, 120) + "…" : p;
    return p.replaceAll("\\p{Cntrl}", "?");
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
          return "HEAD".equals(req.getMethod()) ? "GET" : req.getMethod();
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

  /**
   * Jetty's own error responses (malformed requests, ambiguous URIs, URI or headers too large, …) as
   * {@code {"error": …}} JSON, counted ({@code endpoint="other"}) and logged like the handler's own.
   */
  private final class JsonErrorHandler extends ErrorHandler {
    JsonErrorHandler() {
      setShowStacks(false);
      setShowCauses(false);
    }

    @Override
    protected boolean generateAcceptableResponse(Request request, Response response, Callback callback,
        String contentType, List<Charset> charsets, int code, String message, Throwable cause) {
      String text = ClientMessages.redact(message == null ? HttpStatus.getMessage(code) : message);
      byte[] b = SearchApi.error(text);
      Connection conn = request.getConnectionMetaData().getConnection();
      if (!(cause instanceof EofException) && conn.getEndPoint().isOpen()) { // else nobody to answer: not counted
        metrics.request("other", code);
        logClientError(request, code, text);
        deadlines.awaitNext(conn);
      }
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON_TYPE);
      response.getHeaders().put(HttpHeader.CONTENT_LENGTH, b.length);
      response.write(true, ByteBuffer.wrap(b), callback);
      return true;
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
      String text = reason == null ? HttpStatus.getMessage(status) : reason;
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
    deadlines.close();
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
