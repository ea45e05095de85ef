package io.quarry.serving;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A deadline for receiving a whole request, headers and body: a connection must deliver a complete request within
 * {@code deadlineMs} of being opened or of its previous response (HAProxy's {@code timeout http-request}). Jetty's
 * idle timeout only bounds silence between bytes, so a client sending one header line every few seconds (slowloris)
 * would otherwise hold its connection for ever.
 *
 * <p>A {@link Connection.Listener} on the connectors tracks open connections; the handler marks a request
 * {@link #received} once its headers (and, for a body it reads, the whole body) are in, and {@link #awaitNext} when
 * its response completes (an idle kept-alive connection is left to the idle timeout until a byte of its next request
 * arrives). A sweeper thread checks every {@code deadlineMs / 20} (10–250 ms): a connection still
 * receiving at its deadline gets an idle timeout of 1 ms, so Jetty's own idle-timeout path ends it (a pending body
 * read then fails with a {@link java.util.concurrent.TimeoutException}: 408); one still open a sweep later is closed.
 */
final class RequestDeadlines implements Connection.Listener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RequestDeadlines.class);
  private static final long RECEIVED = Long.MIN_VALUE;
  private static final long IDLE = Long.MIN_VALUE + 1;

  /**
   * Per-connection state; {@code since} is the nanoTime reception began, {@link #RECEIVED}, or {@link #IDLE} (kept
   * alive after a response, no byte of a next request yet: the idle timeout applies).
   */
  private static final class State {
    final Connection connection;
    final EndPoint endPoint;
    volatile long since;
    volatile long bytesInWhenIdle;
    volatile boolean readingBody;
    volatile long expiredAt = RECEIVED;

    State(Connection connection, long since) {
      this.connection = connection;
      this.endPoint = connection.getEndPoint();
      this.since = since;
    }
  }

  private final long deadlineNanos;
  private final Runnable onHeaderDeadline;
  private final Map<Connection, State> open = new ConcurrentHashMap<>();
  private final ScheduledExecutorService sweeper;

  /**
   * @param deadlineMs milliseconds a connection has to deliver a complete request, ≥ 1
   * @param onHeaderDeadline called once per connection closed before its request headers were complete (counting)
   */
  RequestDeadlines(long deadlineMs, Runnable onHeaderDeadline) {
    this.deadlineNanos = TimeUnit.MILLISECONDS.toNanos(deadlineMs);
    this.onHeaderDeadline = onHeaderDeadline;
    this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "quarry-request-deadline");
      t.setDaemon(true);
      return t;
    });
    long period = Math.max(10, Math.min(250, deadlineMs / 20));
    sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
  }

  @Override
  public void onOpened(Connection c) {
    open.put(c, new State(c, System.nanoTime()));
  }

  @Override
  public void onClosed(Connection c) {
    open.remove(c);
  }

  /** The request on {@code c} is complete (headers, and its body if it has one that is read). */
  void received(Connection c) {
    State s = open.get(c);
    if (s != null) {
      s.since = RECEIVED;
    }
  }

  /** The handler reads the body of the request on {@code c}: an expiry now is the body's (answered with 408). */
  void readingBody(Connection c) {
    State s = open.get(c);
    if (s != null) {
      s.readingBody = true;
    }
  }

  /**
   * The response on {@code c} is about to complete: the next request's deadline starts with its first byte (seen by
   * the sweeper, so up to one sweep period late); until then the connection is idle.
   */
  void awaitNext(Connection c) {
    State s = open.get(c);
    if (s != null) {
      s.readingBody = false;
      s.expiredAt = RECEIVED;
      s.bytesInWhenIdle = c.getBytesIn();
      s.since = IDLE;
    }
  }

  /** Connections being tracked (open on the connectors this listener is on). */
  int tracked() {
    return open.size();
  }

  private void sweep() {
    long now = System.nanoTime();
    for (State s : open.values()) {
      try {
        long since = s.since;
        if (since == IDLE && s.connection.getBytesIn() != s.bytesInWhenIdle) {
          s.since = now; // a next request started since the last sweep
          continue;
        }
        if (since == RECEIVED || since == IDLE || now - since < deadlineNanos) {
          continue;
        }
        if (s.expiredAt == RECEIVED) {
          s.expiredAt = now;
          if (!s.readingBody) { // a late body is answered 408 and logged by the handler
            onHeaderDeadline.run();
            LOG.info("client error: connection from {} closed: no complete request within {} ms",
                s.endPoint.getRemoteSocketAddress(), TimeUnit.NANOSECONDS.toMillis(deadlineNanos));
          }
          s.endPoint.setIdleTimeout(1);
        } else if (s.endPoint.isOpen()) {
          s.endPoint.close();
        }
      } catch (RuntimeException e) {
        LOG.warn("request deadline check failed: {}", e.toString());
      }
    }
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
  }
}
