package io.quarry.serving;

import io.prometheus.metrics.exporter.common.PrometheusHttpExchange;
import io.prometheus.metrics.exporter.common.PrometheusHttpRequest;
import io.prometheus.metrics.exporter.common.PrometheusHttpResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;

/** The Prometheus client's scrape handler over a Jetty request, the response buffered. */
final class ScrapeExchange implements PrometheusHttpExchange {
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
