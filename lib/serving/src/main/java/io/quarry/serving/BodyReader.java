package io.quarry.serving;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

/**
 * Reads a request body asynchronously into a byte array of at most {@code max} bytes, then calls {@code done}
 * once with the body or a failure ({@link TooLarge}, {@link java.util.concurrent.TimeoutException} from the
 * idle timeout, or the I/O failure). Unlike Jetty's {@code Content.Source.asByteArrayAsync}, a failed read does
 * not fail the request afterwards (which, once the error response had completed, logged a
 * {@code NullPointerException} stack trace for every 408), so the error answer is the request's only outcome.
 */
final class BodyReader implements Runnable {
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
        done.accept(null, new TooLarge());
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

  /** A request body over the limit. */
  static final class TooLarge extends Exception {
    private static final long serialVersionUID = 1L;

    TooLarge() {
      super(null, null, false, false);
    }
  }
}
