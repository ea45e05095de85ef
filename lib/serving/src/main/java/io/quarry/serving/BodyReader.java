package io.quarry.serving;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

/**
 * Reads a request body asynchronously into a byte array of at most {@code max} bytes, then calls {@code done}
 * once with the body or a failure ({@link TooLarge}, {@link java.util.concurrent.TimeoutException} from the
 * idle timeout, or the I/O failure). A body over {@code max} is read on and discarded up to {@code drainCap}
 * bytes in all before {@link TooLarge} is reported. Observed without the drain: a server that answered a refused
 * body before reading it sometimes lost that answer on a kept-alive connection ("header parser received no bytes":
 * the CI failures of {@code ServingEndToEndTest}'s 413 and {@code ServerHardeningTest}'s 415; reproduced by {@code
 * ServingEndToEndTest#oversizedBodiesOnAKeptAliveConnectionAreAnsweredEveryTime}). The likely mechanism, a close
 * with unread bytes turning into a TCP reset, was not isolated; reading the body first removed the loss. Unlike
 * Jetty's {@code Content.Source.asByteArrayAsync}, a failed read does not fail the request afterwards (which, once
 * the error response had completed, logged a {@code NullPointerException} stack trace for every 408), so the error
 * answer is the request's only outcome.
 */
final class BodyReader implements Runnable {
  private final Request req;
  private final int max;
  private final long drainCap;
  private final java.util.function.BiConsumer<byte[], Throwable> done;
  private final ByteArrayOutputStream body = new ByteArrayOutputStream();
  private long total;

  /**
   * @param max most bytes kept (the body limit)
   * @param drainCap most bytes read in all: past {@code max} they are discarded; past {@code drainCap} reading
   *     stops and {@link TooLarge} is reported at once
   */
  BodyReader(Request req, int max, long drainCap, java.util.function.BiConsumer<byte[], Throwable> done) {
    this.req = req;
    this.max = max;
    this.drainCap = Math.max(max, drainCap);
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
      total += n;
      if (total <= max) {
        byte[] copy = new byte[n];
        b.get(copy);
        body.write(copy, 0, n);
      }
      boolean last = chunk.isLast();
      chunk.release();
      if (total > drainCap || (last && total > max)) {
        done.accept(null, new TooLarge());
        return;
      }
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
