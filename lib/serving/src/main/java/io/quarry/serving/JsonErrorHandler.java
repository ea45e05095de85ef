package io.quarry.serving;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.util.List;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's own error responses (malformed requests, ambiguous URIs, URI or headers too large, …) as
 * {@code {"error": …}} JSON, counted ({@code endpoint="other"}) and logged like the handler's own.
 */
final class JsonErrorHandler extends ErrorHandler {
  private final ServerMetrics metrics;
  private final RequestDeadlines deadlines;

  JsonErrorHandler(ServerMetrics metrics, RequestDeadlines deadlines) {
    this.metrics = metrics;
    this.deadlines = deadlines;
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
      Responses.logClientError(request, code, text);
      deadlines.awaitNext(conn);
    }
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, Responses.JSON_TYPE);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, b.length);
    response.write(true, ByteBuffer.wrap(b), callback);
    return true;
  }

  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    String text = reason == null ? HttpStatus.getMessage(status) : reason;
    fields.put(new HttpField(HttpHeader.CONTENT_TYPE, Responses.JSON_TYPE));
    return ByteBuffer.wrap(SearchApi.error(ClientMessages.redact(text)));
  }
}
