package io.quarry.serving;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.quarry.core.search.HybridSearcher;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP JSON API, on the JDK's built-in {@code com.sun.net.httpserver} (no extra dependency):
 *
 * <ul>
 *   <li>{@code POST /search}: {@link SearchApi} request → hits (200), 400 on a bad request, 503 when no index
 *       version is loaded;
 *   <li>{@code GET /health}: 200 while the process runs;
 *   <li>{@code GET /ready}: 200 {@code {"ready":true,"version":…}} or 503 with the reason (no version yet, or the
 *       last reload failed while the previous version keeps serving);
 *   <li>{@code GET /metrics}: Prometheus text ({@link Metrics}).
 * </ul>
 *
 * Nothing from a request reaches the filesystem: versions come only from {@code CURRENT}.
 */
public final class SearchServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SearchServer.class);

  static {
    // TCP_NODELAY on accepted sockets: the JDK server writes headers and body separately, and Nagle's algorithm
    // with the client's delayed ACK would add ~40 ms to every keep-alive response. Read once by the JDK server.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final HttpServer http;
  private final ExecutorService pool;
  private final IndexHolder holder;
  private final Metrics metrics = new Metrics();
  private final SearchApi.Limits limits;

  /**
   * Binds {@code host:port} (port 0 picks a free port) and starts serving.
   *
   * @param threads request threads
   * @throws IOException if the address cannot be bound
   */
  public SearchServer(String host, int port, int threads, IndexHolder holder, SearchApi.Limits limits)
      throws IOException {
    this.holder = holder;
    this.limits = limits;
    this.http = HttpServer.create(new InetSocketAddress(host, port), 128);
    this.pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "quarry-http");
      t.setDaemon(true);
      return t;
    });
    http.setExecutor(pool);
    http.createContext("/", this::handle);
    http.start();
    LOG.info("listening on http://{}:{}", host, port());
  }

  public int port() {
    return http.getAddress().getPort();
  }

  public Metrics metrics() {
    return metrics;
  }

  private void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    String method = ex.getRequestMethod();
    String endpoint = switch (path) {
      case "/search", "/health", "/ready", "/metrics" -> path.substring(1);
      default -> "other";
    };
    int status;
    try {
      status = switch (endpoint) {
        case "search" -> "POST".equals(method) ? search(ex) : methodNotAllowed(ex, "POST");
        case "health" -> "GET".equals(method) ? send(ex, 200, "{\"status\":\"ok\"}") : methodNotAllowed(ex, "GET");
        case "ready" -> "GET".equals(method) ? ready(ex) : methodNotAllowed(ex, "GET");
        case "metrics" -> "GET".equals(method) ? metricsText(ex) : methodNotAllowed(ex, "GET");
        default -> sendJson(ex, 404, SearchApi.error("not found: use POST /search, GET /health, /ready, /metrics"));
      };
    } catch (RuntimeException | IOException e) {
      LOG.error("{} {} failed", method, path, e);
      status = 500;
      try {
        sendJson(ex, 500, SearchApi.error("internal error: " + e.getClass().getSimpleName()));
      } catch (IOException ignored) {
        // client gone
      }
    } finally {
      ex.close();
    }
    metrics.request(endpoint, status);
  }

  private int search(HttpExchange ex) throws IOException {
    long t0 = System.nanoTime();
    byte[] body;
    try (InputStream in = ex.getRequestBody()) {
      body = in.readNBytes(limits.maxBodyBytes() + 1);
    }
    if (body.length > limits.maxBodyBytes()) {
      return sendJson(ex, 413, SearchApi.error("request body larger than " + limits.maxBodyBytes() + " bytes"));
    }
    HybridSearcher.Request req;
    try {
      req = SearchApi.parse(body, limits);
    } catch (SearchApi.BadRequest e) {
      return sendJson(ex, 400, SearchApi.error(e.getMessage()));
    }
    LoadedIndex li = holder.acquire();
    if (li == null) {
      return sendJson(ex, 503, SearchApi.error("not ready: " + holder.status().reason()));
    }
    try {
      HybridSearcher.Result res;
      try {
        res = li.searcher().search(req);
      } catch (IllegalArgumentException e) {
        return sendJson(ex, 400, SearchApi.error(e.getMessage()));
      }
      long took = System.nanoTime() - t0;
      for (Map.Entry<String, Long> e : res.stageNanos().entrySet()) {
        metrics.stage(e.getKey(), e.getValue());
      }
      metrics.stage("total", took);
      ObjectNode o = SearchApi.response(li.version().manifest().version(), req, res, took);
      return sendJson(ex, 200, SearchApi.JSON.writeValueAsBytes(o));
    } finally {
      li.release();
    }
  }

  private int ready(HttpExchange ex) throws IOException {
    IndexHolder.Status s = holder.status();
    ObjectNode o = SearchApi.JSON.createObjectNode().put("ready", s.ready()).put("version", s.version());
    if (s.reason() != null) {
      o.put("reason", s.reason());
    }
    return sendJson(ex, s.ready() ? 200 : 503, SearchApi.JSON.writeValueAsBytes(o));
  }

  private int metricsText(HttpExchange ex) throws IOException {
    byte[] b = metrics.render().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    ex.sendResponseHeaders(200, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
    return 200;
  }

  private static int methodNotAllowed(HttpExchange ex, String allowed) throws IOException {
    ex.getResponseHeaders().set("Allow", allowed);
    return sendJson(ex, 405, SearchApi.error("method not allowed; use " + allowed));
  }

  private static int send(HttpExchange ex, int status, String json) throws IOException {
    return sendJson(ex, status, json.getBytes(StandardCharsets.UTF_8));
  }

  private static int sendJson(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    ex.sendResponseHeaders(status, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
    return status;
  }

  @Override
  public void close() {
    http.stop(1);
    pool.shutdown();
    try {
      pool.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
