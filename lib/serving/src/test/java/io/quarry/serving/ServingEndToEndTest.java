package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starts the server on a real index built from {@code data-samples/scifact} (bundled bge-small-en-v1.5-q) and talks
 * to it over HTTP: search in every mode, bad requests, readiness, metrics, reload on CURRENT change while requests
 * are in flight, and a corrupt version that must not replace the one being served nor take the server out of
 * rotation (ready stays 200; the failure shows in /health and /metrics).
 */
class ServingEndToEndTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int N = 120;

  @TempDir static Path root;
  static IndexHolder holder;
  static SearchServer server;
  static HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    TestIndexes.write(root, "v1", N, 2, "float32");
    TestIndexes.publish(root, "v1");
    holder = new IndexHolder(new LocalIndexSource(root), new ModelEncoders(null, 1), null, true);
    assertThat(holder.refresh()).isTrue();
    server = new SearchServer("127.0.0.1", 0, 4, holder, SearchApi.Limits.defaults());
  }

  @AfterAll
  static void stop() {
    server.close();
    holder.close();
  }

  static HttpResponse<String> post(String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/search"))
        .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void searchesInEveryModeOverHttp() throws Exception {
    TestIndexes.Doc target = TestIndexes.docs(N).get(7);
    for (String mode : List.of("bm25", "ivfpq", "rescore", "hybrid")) {
      HttpResponse<String> r = post("{\"query\":" + JSON.writeValueAsString(target.title()) + ",\"k\":5,\"mode\":\""
          + mode + "\"}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode j = JSON.readTree(r.body());
      assertThat(j.get("version").asText()).isEqualTo("v1");
      JsonNode hits = j.get("hits");
      assertThat(hits.size()).isEqualTo(5);
      // the document's own title finds it first in every mode
      assertThat(hits.get(0).get("docId").asText()).as(mode).isEqualTo(target.id());
      assertThat(hits.get(0).get("chunkId").asText()).isEqualTo(target.id() + "#0");
      assertThat(hits.get(0).get("text").asText()).isEqualTo(target.text());
      assertThat(hits.get(0).get("endChar").asInt()).isEqualTo(target.text().length());
      JsonNode scores = hits.get(0).get("scores");
      switch (mode) {
        case "bm25" -> assertThat(scores.has("bm25")).isTrue();
        case "ivfpq" -> assertThat(scores.has("ivfpq") && !scores.has("rescore")).isTrue();
        case "rescore" -> assertThat(scores.has("ivfpq") && scores.has("rescore")).isTrue();
        default -> {
          // fused after re-scoring: every hybrid hit has both signals and the fused score
          assertThat(scores.has("hybrid") && scores.has("rescore") && scores.has("bm25")).isTrue();
          assertThat(hits.get(0).get("score").floatValue()).isEqualTo(scores.get("hybrid").floatValue());
          assertThat(j.get("fusion").asText()).isEqualTo(io.quarry.core.search.FusionSpec.DEFAULT.toString());
        }
      }
      assertThat(j.get("stagesMs").size()).isGreaterThan(0);
      assertThat(j.get("mode").asText()).isEqualTo(mode);
      assertThat(j.has("warnings")).isFalse();
    }
  }

  @Test
  void theOldDenseModeIsServedAsRescoreWithAWarning() throws Exception {
    TestIndexes.Doc target = TestIndexes.docs(N).get(7);
    String q = "{\"query\":" + JSON.writeValueAsString(target.title()) + ",\"k\":5,\"withText\":false,\"mode\":";
    HttpResponse<String> old = post(q + "\"dense\"}");
    HttpResponse<String> now = post(q + "\"rescore\"}");
    assertThat(old.statusCode()).as(old.body()).isEqualTo(200);
    JsonNode o = JSON.readTree(old.body());
    JsonNode n = JSON.readTree(now.body());
    assertThat(o.get("mode").asText()).isEqualTo("rescore");
    assertThat(o.get("hits")).isEqualTo(n.get("hits"));
    assertThat(o.get("warnings")).hasSize(1);
    assertThat(o.get("warnings").get(0).asText()).contains("'dense' is deprecated").contains("'rescore'");
    assertThat(n.has("warnings")).isFalse();
    assertThat(io.quarry.core.search.Stages.warnedSoFar()).contains("mode: dense");
  }

  @Test
  void oversizedBodiesOnAKeptAliveConnectionAreAnsweredEveryTime() throws Exception {
    // the CI failure: a 413 on a reused connection was sometimes lost ("header parser received no bytes") while the
    // server refused before reading the body; it reads (and discards) it first now
    String big = "{\"query\":\"" + "y".repeat(20000) + "\"}";
    for (int i = 0; i < 200; i++) {
      assertThat(post("{\"query\":\"x\",\"k\":1000}").statusCode()).as("round " + i).isEqualTo(400);
      assertThat(post(big).statusCode()).as("round " + i).isEqualTo(413);
    }
  }

  @Test
  void badRequestsAre4xxWithAMessage() throws Exception {
    HttpResponse<String> r = post("{\"query\":\"x\",\"file\":\"../../etc/passwd\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(r.body()).get("error").asText()).contains("unknown field 'file'");
    assertThat(post("{\"query\":\"x\",\"k\":1000}").statusCode()).isEqualTo(400);
    assertThat(post("{\"query\":\"x\",\"rerank\":true}").body()).contains("no cross-encoder");
    assertThat(post("not json").statusCode()).isEqualTo(400);
    assertThat(post("{\"query\":\"" + "y".repeat(20000) + "\"}").statusCode()).isEqualTo(413);
    assertThat(get("/search").statusCode()).isEqualTo(405);
    HttpResponse<String> escape = get("/../etc/passwd"); // Jetty refuses the ambiguous path before routing
    assertThat(escape.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(escape.body()).has("error")).isTrue();
    assertThat(get("/nothing-here").statusCode()).isEqualTo(404);
    assertThat(get("/health").statusCode()).isEqualTo(200);
  }

  @Test
  void metricsArePrometheusText() throws Exception {
    post("{\"query\":\"cancer\",\"mode\":\"hybrid\"}");
    HttpResponse<String> m = get("/metrics");
    assertThat(m.statusCode()).isEqualTo(200);
    assertThat(m.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
    assertThat(m.body()).contains("# TYPE quarry_search_stage_seconds histogram")
        .contains("quarry_search_stage_seconds_bucket{stage=\"bm25\",le=\"+Inf\"}")
        .contains("quarry_search_stage_seconds_count{stage=\"total\"}")
        .contains("quarry_requests_total{code=\"200\",endpoint=\"search\"}")
        .contains("quarry_index_version_info{version=").contains("quarry_seconds_since_last_successful_reload ")
        .contains("jvm_memory_used_bytes").contains("jvm_threads_current").contains("jvm_gc_collection_seconds");
  }

  @Test
  void reloadsOnCurrentChangeKeepsServingThroughACorruptVersion() throws Exception {
    assertThat(get("/ready").statusCode()).isEqualTo(200);
    AtomicBoolean stop = new AtomicBoolean();
    ConcurrentLinkedQueue<Integer> codes = new ConcurrentLinkedQueue<>();
    List<Thread> clients = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      Thread th = new Thread(() -> {
        while (!stop.get()) {
          try {
            codes.add(post("{\"query\":\"protein expression in tumor cells\",\"k\":10}").statusCode());
          } catch (Exception e) {
            codes.add(-1);
          }
        }
      });
      th.start();
      clients.add(th);
    }
    try {
      TestIndexes.write(root, "v2", N, 3, "sq8");
      TestIndexes.publish(root, "v2");
      assertThat(holder.refresh()).isTrue();
      assertThat(holder.status()).isEqualTo(IndexHolder.Status.serving("v2", 0));
      JsonNode j = JSON.readTree(post("{\"query\":\"cells\",\"k\":3}").body());
      assertThat(j.get("version").asText()).isEqualTo("v2");

      // a corrupt version: refused, v2 keeps serving and stays ready; /health and /metrics report the failure
      Path bad = TestIndexes.write(root, "v3", N, 2, "float32");
      Path victim = bad.resolve("shard-00001/lists.ivf");
      try (RandomAccessFile raf = new RandomAccessFile(victim.toFile(), "rw")) {
        raf.seek(64);
        int b = raf.read();
        raf.seek(64);
        raf.write(b ^ 0xff);
      }
      TestIndexes.publish(root, "v3");
      assertThat(holder.refresh()).isFalse();
      HttpResponse<String> ready = get("/ready");
      assertThat(ready.statusCode()).isEqualTo(200);
      assertThat(ready.body()).contains("\"version\":\"v2\"").contains("lastReloadError");
      JsonNode health = JSON.readTree(get("/health").body());
      assertThat(health.get("status").asText()).isEqualTo("degraded");
      assertThat(health.get("failedVersion").asText()).isEqualTo("v3");
      assertThat(health.get("lastReloadError").asText()).contains("v3/shard-00001/lists.ivf")
          .doesNotContain(root.toAbsolutePath().toString());
      assertThat(health.get("reloadFailures").asLong()).isEqualTo(1);
      String metrics = get("/metrics").body();
      assertThat(metrics).contains("quarry_index_version_info{version=\"v2\"} 1")
          .contains("quarry_reload_failures_total 1").contains("quarry_reload_failing 1");
      assertThat(JSON.readTree(post("{\"query\":\"cells\",\"k\":3}").body()).get("version").asText())
          .isEqualTo("v2");
      assertThat(holder.refresh()).isFalse(); // the same failed version is not retried nor counted again
      assertThat(holder.status().reloadFailures()).isEqualTo(1);

      // a missing version: same
      TestIndexes.publish(root, "v9");
      assertThat(holder.refresh()).isFalse();
      assertThat(get("/ready").statusCode()).isEqualTo(200);
      assertThat(get("/health").body()).contains("v9");

      // back to a good one
      TestIndexes.publish(root, "v1");
      assertThat(holder.refresh()).isTrue();
      assertThat(get("/ready").statusCode()).isEqualTo(200);
      health = JSON.readTree(get("/health").body());
      assertThat(health.get("status").asText()).isEqualTo("ok");
      assertThat(health.has("lastReloadError")).isFalse();
      assertThat(get("/metrics").body()).contains("quarry_index_version_info{version=\"v1\"} 1")
          .doesNotContain("version=\"v2\"").contains("quarry_reload_failing 0")
          .contains("quarry_reload_failures_total 2");
    } finally {
      stop.set(true);
      for (Thread th : clients) {
        th.join();
      }
    }
    assertThat(codes).isNotEmpty().allMatch(c -> c == 200);
  }
}
