package io.quarry.serving;

import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the server answers: complete JSON responses and {@code {"error": …}} bodies, each counted in
 * {@link ServerMetrics}, client errors (4xx) logged as one INFO line and server errors with their stack trace.
 */
final class Responses {
  static final String JSON_TYPE = "application/json; charset=utf-8";
  private static final Logger LOG = LoggerFactory.getLogger(SearchServer.class); // the server's log lines

  private final ServerMetrics metrics;

  Responses(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  void internalError(Request req, Response res, Callback cb, String endpoint, Throwable e) {
    LOG.error("{} {} failed", req.getMethod(), Request.getPathInContext(req), e);
    if (res.isCommitted()) {
      metrics.request(endpoint, 500);
      cb.failed(e);
    } else {
      sendError(req, res, cb, endpoint, 500, "internal error: " + e.getClass().getSimpleName());
    }
  }

  void methodNotAllowed(Request req, Response res, Callback cb, String endpoint, String allowed) {
    res.getHeaders().put(HttpHeader.ALLOW, allowed);
    sendError(req, res, cb, endpoint, 405, "method not allowed; use " + allowed);
  }

  /** Sends {@code {"error": message}}, counts it, and logs one INFO line for a client error (4xx). */
  void sendError(Request req, Response res, Callback cb, String endpoint, int status, String message) {
    logClientError(req, status, message);
    send(res, cb, endpoint, status, SearchApi.error(message));
  }

  static void logClientError(Request req, int status, String message) {
    if (status >= 400 && status < 500) {
      LOG.info("client error: {} {} {} from {}: {}", status, req.getMethod(), pathForLog(req),
          Request.getRemoteAddr(req), message);
    }
  }

  /** The request path for a log line: at most 120 characters, control characters replaced. */
  static String pathForLog(Request req) {
    String p = req.getHttpURI() == null ? "?" : String.valueOf(req.getHttpURI().getPath());
    p = p.length() > 120 ? p.substring(0, 120) + "…" : p;
    return p.replaceAll("\\p{Cntrl}", "?");
  }

  /** Sends a complete JSON response (the body is dropped for HEAD by Jetty) and counts it. */
  void send(Response res, Callback cb, String endpoint, int status, byte[] body) {
    res.setStatus(status);
    res.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON_TYPE);
    res.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    metrics.request(endpoint, status);
    res.write(true, ByteBuffer.wrap(body), cb);
  }
}
