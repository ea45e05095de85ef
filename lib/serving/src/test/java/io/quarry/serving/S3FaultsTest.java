package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.serving.FaultyS3Proxy.Fault;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.gaul.s3proxy.AuthenticationType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server reloading from S3 (S3Proxy on loopback) while the S3 side fails: 500s and stalls injected by a proxy in
 * front of it, on {@code CURRENT} and on a new version's files. The loaded version keeps serving, {@code /health} and
 * the metrics say the source is failing, stalls end at the S3 timeout, and the reload succeeds once S3 recovers.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class S3FaultsTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final long S3_TIMEOUT_MS = 1000;
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path tmp;

  static JsonNode get(int port, String path) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  static String metrics(int port) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  /** A search answered 200: returns the version that served it. */
  static String search(int port) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/search"))
        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"query\":\"stem cells\",\"k\":3,\"mode\":\"hybrid\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body()).get("version").asText();
  }

  /** Reloads while the fault is injected: the reload fails, v{@code served} keeps serving, all of it reported. */
  static void assertFailsWhileServing(IndexHolder holder, SearchServer server, String served, String wanted)
      throws Exception {
    long failuresBefore = holder.reloadFailures();
    for (int attempt = 0; attempt < 2; attempt++) { // a source failure is retried at every poll, not given up on
      long t0 = System.nanoTime();
      assertThat(holder.refresh()).isFalse();
      long ms = (System.nanoTime() - t0) / 1_000_000;
      System.out.println("S3 fault on the way to " + wanted + ": reload failed in " + ms + " ms: "
          + holder.status().lastReloadError());
      assertThat(ms).as("a stalled S3 request ends at its timeout (3 attempts)").isLessThan(6 * S3_TIMEOUT_MS + 4000);
    }
    assertThat(holder.reloadFailures()).isEqualTo(failuresBefore + 2);
    IndexHolder.Status s = holder.status();
    assertThat(s.ready()).isTrue();
    assertThat(s.version()).isEqualTo(served);
    assertThat(s.sourceAvailable()).isFalse();
    JsonNode health = get(server.adminPort(), "/health");
    assertThat(health.get("status").asText()).isEqualTo("degraded");
    assertThat(health.get("version").asText()).isEqualTo(served);
    assertThat(health.get("sourceAvailable").asBoolean()).isFalse();
    assertThat(health.get("lastReloadError").asText()).contains("s3://idx/prod/index/");
    assertThat(get(server.adminPort(), "/ready").get("ready").asBoolean()).isTrue();
    String m = metrics(server.adminPort());
    assertThat(m).contains("quarry_index_source_up 0.0").contains("quarry_reload_failing 1.0")
        .contains("quarry_index_version_info{version=\"" + served + "\"} 1");
    assertThat(search(server.port())).isEqualTo(served);
  }

  static void assertRecovers(IndexHolder holder, SearchServer server, String wanted, Path cache) throws Exception {
    assertThat(holder.refresh()).isTrue();
    assertThat(holder.status()).isEqualTo(IndexHolder.Status.serving(wanted, holder.reloadFailures()));
    assertThat(get(server.adminPort(), "/health").get("status").asText()).isEqualTo("ok");
    assertThat(metrics(server.adminPort())).contains("quarry_index_source_up 1.0").contains("quarry_reload_failing 0.0");
    assertThat(search(server.port())).isEqualTo(wanted);
    try (var s = Files.list(cache)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".partial-"));
    }
  }

  @Test
  void reloadsThroughS3ErrorsAndStallsKeepServingAndReportIt() throws Exception {
    Path built = tmp.resolve("built");
    Path cache = tmp.resolve("cache");
    try (LoopbackS3 s3 = new LoopbackS3(AuthenticationType.NONE); FaultyS3Proxy proxy = new FaultyS3Proxy(s3.endpoint)) {
      s3.createBucket("idx");
      String[] versions = {"v1", "v2", "v3", "v4"};
      for (String v : versions) {
        s3.upload("idx", "prod/index/" + v + "/", TestIndexes.write(built, v, 40, 2, "float32"));
      }
      s3.put("idx", "prod/index/CURRENT", "v1\n".getBytes(StandardCharsets.UTF_8));
      S3IndexSource src = S3IndexSource.create("s3://idx/prod/index", proxy.endpoint(), "us-east-1", cache,
          S3_TIMEOUT_MS, LoopbackS3.credentials());
      try (IndexHolder holder = new IndexHolder(src, new ModelEncoders(null, 1), null, true);
          SearchServer server = new SearchServer("127.0.0.1", 0, holder, SearchApi.Limits.defaults(),
              new SearchServer.Options(2, 16, 5_000, 10_000, 64, 0, 10_000))) {
        assertThat(holder.refresh()).isTrue();
        assertThat(search(server.port())).isEqualTo("v1");

        // 1. every request for v2's files answers 500
        s3.put("idx", "prod/index/CURRENT", "v2\n".getBytes(StandardCharsets.UTF_8));
        proxy.inject("/prod/index/v2/", Fault.ERROR_500);
        assertFailsWhileServing(holder, server, "v1", "v2");
        assertThat(holder.status().failedVersion()).isEqualTo("v2");
        proxy.heal();
        assertRecovers(holder, server, "v2", cache);

        // 2. CURRENT itself answers 500
        s3.put("idx", "prod/index/CURRENT", "v3\n".getBytes(StandardCharsets.UTF_8));
        proxy.inject("/prod/index/CURRENT", Fault.ERROR_500);
        assertFailsWhileServing(holder, server, "v2", "v3");
        proxy.heal();
        assertRecovers(holder, server, "v3", cache);

        // 3. a shard file stalls after half its bytes; /health stays fast while the reload waits on S3
        s3.put("idx", "prod/index/CURRENT", "v4\n".getBytes(StandardCharsets.UTF_8));
        proxy.inject("/prod/index/v4/shard-00001/lists.ivf", Fault.STALL_MID_BODY);
        CompletableFuture<Boolean> reload = CompletableFuture.supplyAsync(holder::refresh);
        Thread.sleep(300);
        long t0 = System.nanoTime();
        assertThat(get(server.adminPort(), "/health").get("version").asText()).isEqualTo("v3");
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(500);
        assertThat(reload.get(6 * S3_TIMEOUT_MS + 4000, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(holder.status().lastReloadError()).contains("v4/shard-00001/lists.ivf");
        assertFailsWhileServing(holder, server, "v3", "v4");

        // 4. CURRENT's response never starts
        proxy.inject("/prod/index/CURRENT", Fault.STALL_BEFORE_RESPONSE);
        assertFailsWhileServing(holder, server, "v3", "v4");
        assertThat(proxy.injected.get()).isGreaterThanOrEqualTo(6);
        proxy.heal();
        assertRecovers(holder, server, "v4", cache);
      }
    }
  }
}
