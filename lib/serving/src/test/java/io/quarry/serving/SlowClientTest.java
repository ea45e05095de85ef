package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slowloris at the connection limit (issue 25, item 1), on 127.0.0.1: clients that send one request header line
 * every 2 s, so the idle timeout (5 s) never fires. The request deadline (3 s here, 10 s by default) must close
 * them, and the admin port must answer {@code /health} and {@code /ready} fast while the main port is full.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SlowClientTest {
  static final long REQUEST_MS = 3000;
  static final long LINE_EVERY_MS = 2000;

  @TempDir static Path root;
  static IndexHolder holder;
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @BeforeAll
  static void load() throws Exception {
    TestIndexes.write(root, "v1", 40, 2, "float32");
    TestIndexes.publish(root, "v1");
    holder = new IndexHolder(new LocalIndexSource(root), new ModelEncoders(null, 1), null, true);
    assertThat(holder.refresh()).isTrue();
  }

  @AfterAll
  static void close() {
    holder.close();
  }

  /** The defaults of bin/quarry-serve except the request deadline (3 s instead of 10 s). */
  static SearchServer server(int maxConnections) throws IOException {
    return server(maxConnections, REQUEST_MS);
  }

  /** The defaults of bin/quarry-serve with a request deadline of {@code requestMs} milliseconds. */
  static SearchServer server(int maxConnections, long requestMs) throws IOException {
    return new SearchServer("127.0.0.1", 0, holder, SearchApi.Limits.defaults(),
        new SearchServer.Options(8, 64, 5_000, requestMs, maxConnections, 0, 10_000));
  }

  @Test
  void twoHundredSlowlorisAtMaxConnections150() throws Exception {
    try (SearchServer s = server(150)) {
      slowloris(s, 200, 150, REQUEST_MS);
    }
  }

  @Test
  void elevenHundredSlowlorisAtTheDefaultLimit() throws Exception {
    // a 6 s deadline: opening 1,100 connections one after the other takes up to 3 s on a loaded 2-core machine, and
    // the admin port must be probed while the main connector is full (before the first accepted ones time out)
    try (SearchServer s = server(1024, 2 * REQUEST_MS)) {
      slowloris(s, 1100, 1024, 2 * REQUEST_MS);
    }
  }

  @Test
  void aBodyTrickledWithinTheIdleTimeoutGets408AtTheRequestDeadline() throws Exception {
    try (SearchServer s = server(1024); java.net.Socket c = new java.net.Socket("127.0.0.1", s.port())) {
      c.setSoTimeout((int) REQUEST_MS + 5000);
      var out = c.getOutputStream();
      long t0 = System.nanoTime();
      out.write(("POST /search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n"
          + "\r\n").getBytes(StandardCharsets.US_ASCII));
      var in = c.getInputStream();
      String answer = null;
      for (int i = 0; i < 100 && answer == null; i++) { // one body byte every 400 ms: never idle for 5 s
        try {
          out.write(i == 0 ? '{' : ' ');
          out.flush();
        } catch (IOException e) {
          break; // closed by the server: read what it answered
        }
        Thread.sleep(400);
        if (in.available() > 0) {
          break;
        }
      }
      answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      System.out.println("trickled body: answered after " + ms + " ms: " + answer.lines().findFirst().orElse(""));
      assertThat(answer).startsWith("HTTP/1.1 408");
      assertThat(ms).isBetween(REQUEST_MS - 100, REQUEST_MS + 1000);
      String m = s.metrics().render();
      assertThat(m).contains("quarry_requests_total{code=\"408\",endpoint=\"search\"} 1.0")
          .contains("quarry_request_deadline_closes_total 0.0");
    }
  }

  static long probe(int port, String path) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(r.statusCode()).as(path).isEqualTo(200);
    return ms;
  }

  /**
   * Opens {@code n} connections to the main port that each send a request line and then one header line every 2 s;
   * probes the admin port meanwhile; checks that every connection is closed by the server: the {@code limit} the
   * server accepted at once within the deadline (+ 1 s), the rest (waiting in the accept queue until slots free)
   * within two deadlines (+ 2 s).
   */
  static void slowloris(SearchServer server, int n, int limit, long requestMs) throws Exception {
    probe(server.adminPort(), "/health"); // warm the client up
    InetSocketAddress main = new InetSocketAddress("127.0.0.1", server.port());
    long start = System.nanoTime();
    Selector sel = Selector.open();
    SocketChannel[] ch = new SocketChannel[n];
    long[] opened = new long[n];
    long[] closed = new long[n];
    List<Long> probes = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.Map<String, Integer> answers = new java.util.TreeMap<>();
    java.util.concurrent.atomic.AtomicInteger connected = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<Throwable> probeFailure = new java.util.concurrent.atomic.AtomicReference<>();
    Thread prober = new Thread(() -> {
      try {
        while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(requestMs - 200)) {
          if (connected.get() >= limit) {
            probes.add(probe(server.adminPort(), "/health"));
            probes.add(probe(server.adminPort(), "/ready"));
          }
          Thread.sleep(100);
        }
      } catch (Throwable t) {
        probeFailure.set(t);
      }
    });
    try {
      // while the server holds `limit` slow connections (until their deadline), the admin port answers fast
      prober.start();
      for (int i = 0; i < n; i++) {
        ch[i] = SocketChannel.open(main); // completes once the kernel queued it, accepted or not
        opened[i] = System.nanoTime();
        ch[i].configureBlocking(false);
        ch[i].write(ByteBuffer.wrap("POST /search HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII)));
        ch[i].register(sel, SelectionKey.OP_READ, i);
        connected.incrementAndGet();
      }
      long openMs = (System.nanoTime() - start) / 1_000_000;
      ByteBuffer buf = ByteBuffer.allocate(4096);
      int open = n;
      int line = 0;
      long nextLine = start + TimeUnit.MILLISECONDS.toNanos(LINE_EVERY_MS);
      long giveUp = start + TimeUnit.MILLISECONDS.toNanos(2 * requestMs + 10_000);
      while (open > 0 && System.nanoTime() < giveUp) {
        sel.select(50);
        for (SelectionKey k : sel.selectedKeys()) {
          int i = (Integer) k.attachment();
          int r;
          try {
            buf.clear();
            r = ch[i].read(buf);
            if (r > 0) {
              String got = new String(buf.array(), 0, r, StandardCharsets.ISO_8859_1);
              answers.merge(got.lines().findFirst().orElse(""), 1, Integer::sum);
            }
          } catch (IOException e) {
            r = -1; // reset by the server
          }
          if (r < 0) {
            closed[i] = System.nanoTime();
            k.cancel();
            ch[i].close();
            open--;
          }
        }
        sel.selectedKeys().clear();
        long now = System.nanoTime();
        if (now >= nextLine) {
          line++;
          byte[] h = ("X-Slow-" + line + ": still sending\r\n").getBytes(StandardCharsets.US_ASCII);
          for (int i = 0; i < n; i++) {
            if (closed[i] == 0) {
              try {
                ch[i].write(ByteBuffer.wrap(h));
              } catch (IOException e) {
                // closed by the server: the read side records it
              }
            }
          }
          nextLine += TimeUnit.MILLISECONDS.toNanos(LINE_EVERY_MS);
        }
      }
      prober.join();
      long[] lifetimes = new long[n];
      for (int i = 0; i < n; i++) {
        lifetimes[i] = closed[i] == 0 ? Long.MAX_VALUE : (closed[i] - opened[i]) / 1_000_000;
      }
      long[] sorted = lifetimes.clone();
      Arrays.sort(sorted);
      long[] sortedProbes = probes.stream().mapToLong(Long::longValue).sorted().toArray();
      System.out.printf("slowloris %d clients, limit %d: opened in %d ms, %d header lines each; admin probes "
          + "(ms) %s; connection lifetimes (ms): min %d, at the limit %d, max %d; %d still open%n", n, limit, openMs,
          line + 1, Arrays.toString(sortedProbes), sorted[0], sorted[Math.min(limit, n) - 1], sorted[n - 1], open);
      System.out.println("answers: " + answers);
      assertThat(open).as("connections the server never closed").isZero();
      assertThat(line).as("header lines sent after the first").isGreaterThanOrEqualTo(1);
      assertThat(probeFailure.get()).isNull();
      assertThat(probes).hasSizeGreaterThanOrEqualTo(4);
      assertThat(sortedProbes[sortedProbes.length / 2]).as("median admin probe ms").isLessThan(100);
      assertThat(sortedProbes[sortedProbes.length - 1]).as("slowest admin probe ms").isLessThan(500);
      // the accepted wave is closed at its deadline, not before and not much after
      assertThat(sorted[0]).isGreaterThanOrEqualTo(requestMs - 100);
      assertThat(sorted[Math.min(limit, n) - 1]).isLessThan(requestMs + 1000);
      assertThat(sorted[n - 1]).isLessThan(2 * requestMs + 2000);
    } finally {
      for (SocketChannel c : ch) {
        if (c != null) {
          c.close();
        }
      }
      sel.close();
    }
    String m = server.metrics().render();
    assertThat(m).contains("quarry_request_deadline_closes_total " + n + ".0").doesNotContain("code=\"500\"");
    long ms = probe(server.port(), "/health"); // the main port serves again
    assertThat(ms).isLessThan(1000);
  }
}
