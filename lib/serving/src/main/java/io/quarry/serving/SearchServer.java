package io.quarry.serving;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarry.core.search.HybridSearcher;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP JSON API on Jetty 12 (core handler API, no servlets):
 *
 * <ul>
 *   <li>{@code POST /search}: {@link SearchApi} request → hits (200); 400 on a bad request, 413 on a body over the
 *       limit, 415 when the body's {@code Content-Type} is not JSON ({@link #isJson}) — both answered after the body is
 *       read and discarded when it is at most {@link #DRAIN_CAP_BYTES}, 408 when the body does not
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
  /**
   * Most bytes of a refused body (413, 415) read and discarded before the answer, so that a kept-alive client
   * receives it (see {@link BodyReader}); a declared length above this is refused before reading (bytes).
   */
  static final long DRAIN_CAP_BYTES = 1L << 20;
  private static final String NOT_JSON = "unsupported Content-Type: send the request as "
      + "Content-Type: application/json (curl: -H 'Content-Type: application/json')";

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
  private final Responses responses = new Responses(metrics);
  private final AdminEndpoints adminEndpoints;
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
    this.adminEndpoints = new AdminEndpoints(holder, metrics, responses);

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
    server.setErrorHandler(new JsonErrorHandler(metrics, deadlines));
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
              responses.methodNotAllowed(req, res, cb, endpoint, "POST");
            }
          }
          case "health", "ready", "metrics" -> {
            if (get) {
              adminEndpoints.handle(endpoint, req, res, cb);
            } else {
              responses.methodNotAllowed(req, res, cb, endpoint, "GET, HEAD");
            }
          }
          default -> responses.sendError(req, res, cb, endpoint, 404, onAdmin
              ? "not found: the admin port answers GET /health, /ready, /metrics"
              : "not found: use POST /search, GET /health, /ready, /metrics");
        }
      } catch (Exception | Error e) {
        responses.internalError(req, res, cb, endpoint, e);
      }
      return true;
    }
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
    boolean json = isJson(req.getHeaders().get(HttpHeader.CONTENT_TYPE));
    if (req.getLength() > DRAIN_CAP_BYTES) { // too large to drain: refused before reading a byte of it
      deadlines.received(conn);
      responses.sendError(req, res, cb, "search", json ? 413 : 415, json ? tooLarge() : NOT_JSON);
      return;
    }
    deadlines.readingBody(conn);
    new BodyReader(req, limits.maxBodyBytes(), DRAIN_CAP_BYTES, (body, failure) -> {
      deadlines.received(conn);
      if (!json && (failure == null || failure instanceof BodyReader.TooLarge)) { // read or drained, then refused
        responses.sendError(req, res, cb, "search", 415, NOT_JSON);
        return;
      }
      if (failure != null) {
        bodyFailed(req, res, cb, failure);
        return;
      }
      try {
        searchPool.execute(() -> {
          try {
            runSearch(req, body, t0, res, cb);
          } catch (Exception | Error e) {
            responses.internalError(req, res, cb, "search", e);
          }
        });
      } catch (RejectedExecutionException e) {
        res.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
        responses.send(res, cb, "search", 503, SearchApi.error("overloaded: " + searchPool.getQueue().size()
            + " searches queued; retry later"));
      }
    }).run();
  }

  private String tooLarge() {
    return "request body larger than " + limits.maxBodyBytes() + " bytes";
  }

  private void bodyFailed(Request req, Response res, Callback cb, Throwable failure) {
    if (failure instanceof BodyReader.TooLarge) {
      responses.sendError(req, res, cb, "search", 413, tooLarge());
    } else if (failure instanceof java.util.concurrent.TimeoutException) {
      responses.sendError(req, res, cb, "search", 408, "request body not received in time (idle timeout or "
          + "request deadline)");
    } else { // the connection is gone or broken: nobody to answer; Jetty closes it
      LOG.info("client error: {} {} from {}: request body not received: {}", req.getMethod(), Responses.pathForLog(req),
          Request.getRemoteAddr(req), failure.toString());
      cb.failed(failure);
    }
  }

  private void runSearch(Request httpReq, byte[] body, long t0, Response res, Callback cb) throws IOException {
    SearchApi.Parsed parsed;
    try {
      parsed = SearchApi.parseRequest(body, limits);
    } catch (SearchApi.BadRequest e) {
      responses.sendError(httpReq, res, cb, "search", 400, e.getMessage());
      return;
    }
    HybridSearcher.Request req = parsed.request();
    LoadedIndex li = holder.acquire();
    if (li == null) {
      responses.sendError(httpReq, res, cb, "search", 503, "not ready: " + holder.status().reason());
      return;
    }
    try {
      HybridSearcher.Result result;
      try {
        result = li.searcher().search(req);
      } catch (IllegalArgumentException e) {
        responses.sendError(httpReq, res, cb, "search", 400, ClientMessages.redact(e.getMessage()));
        return;
      }
      long took = System.nanoTime() - t0;
      for (Map.Entry<String, Long> e : result.stageNanos().entrySet()) {
        metrics.stage(e.getKey(), e.getValue());
      }
      metrics.stage("total", took);
      ObjectNode o = SearchApi.response(li.version().manifest().version(), req, result, took,
          parsed.warnings());
      responses.send(res, cb, "search", 200, SearchApi.JSON.writeValueAsBytes(o));
    } finally {
      li.release();
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
