package io.quarry.serving;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP proxy on 127.0.0.1 in front of an S3 server (the JDK's HTTP server forwarding with the JDK's HTTP client)
 * that injects faults into the requests whose path contains a chosen string: a 500 {@code InternalError} (as S3
 * answers under trouble), a stall before the response, or a stall after half the body. Stalls last until
 * {@link #heal()} or 60 s.
 */
final class FaultyS3Proxy implements AutoCloseable {
  enum Fault { ERROR_500, STALL_BEFORE_RESPONSE, STALL_MID_BODY }

  private static final Set<String> NOT_FORWARDED = Set.of("host", "connection", "content-length", "expect",
      "upgrade", "transfer-encoding", "keep-alive", "date");

  private final String upstream;
  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "faulty-s3-proxy");
    t.setDaemon(true);
    return t;
  });
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private volatile String faultOn;
  private volatile Fault fault;
  private volatile CountDownLatch healed = new CountDownLatch(0);
  final AtomicInteger injected = new AtomicInteger();

  FaultyS3Proxy(String upstream) throws IOException {
    this.upstream = upstream;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.createContext("/", this::handle);
    server.setExecutor(threads);
    server.start();
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Injects {@code f} into every request whose path contains {@code pathPart} from now on. */
  void inject(String pathPart, Fault f) {
    healed = new CountDownLatch(1);
    fault = f;
    faultOn = pathPart;
  }

  /** Stops injecting and releases stalled responses (their connections are then closed). */
  void heal() {
    faultOn = null;
    healed.countDown();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getRawPath();
      String on = faultOn;
      Fault f = on != null && path.contains(on) ? fault : null;
      if (f == Fault.ERROR_500) {
        injected.incrementAndGet();
        byte[] b = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code><Message>injected"
            + "</Message></Error>").getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/xml");
        ex.sendResponseHeaders(500, b.length);
        ex.getResponseBody().write(b);
        return;
      }
      if (f == Fault.STALL_BEFORE_RESPONSE) {
        injected.incrementAndGet();
        awaitHeal();
        return; // closed without a response
      }
      String query = ex.getRequestURI().getRawQuery();
      HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(upstream + path + (query == null ? "" : "?"
          + query)));
      for (Map.Entry<String, List<String>> h : ex.getRequestHeaders().entrySet()) {
        if (!NOT_FORWARDED.contains(h.getKey().toLowerCase())) {
          for (String v : h.getValue()) {
            rb.header(h.getKey(), v);
          }
        }
      }
      byte[] reqBody = ex.getRequestBody().readAllBytes();
      rb.method(ex.getRequestMethod(), reqBody.length == 0 ? HttpRequest.BodyPublishers.noBody()
          : HttpRequest.BodyPublishers.ofByteArray(reqBody));
      HttpResponse<byte[]> r = http.send(rb.build(), HttpResponse.BodyHandlers.ofByteArray());
      r.headers().map().forEach((k, v) -> {
        if (!NOT_FORWARDED.contains(k.toLowerCase()) && !k.startsWith(":")) {
          ex.getResponseHeaders().put(k, v);
        }
      });
      byte[] body = r.body();
      boolean head = "HEAD".equals(ex.getRequestMethod());
      ex.sendResponseHeaders(r.statusCode(), head ? -1 : body.length == 0 ? -1 : body.length);
      if (head || body.length == 0) {
        return;
      }
      OutputStream out = ex.getResponseBody();
      if (f == Fault.STALL_MID_BODY) {
        injected.incrementAndGet();
        out.write(body, 0, body.length / 2);
        out.flush();
        awaitHeal();
        return; // closed before the rest
      }
      out.write(body);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void awaitHeal() throws InterruptedException {
    healed.await(60, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    heal();
    server.stop(0);
    threads.shutdownNow();
  }
}
