package io.quarry.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.segment.IndexManifest;
import java.io.BufferedReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Latency benchmark of the serving path over HTTP: starts the server in-process on the index root's published
 * version, then for each configuration ({@code bm25}, {@code dense} nprobe 8 and 32, {@code hybrid}) sends every
 * query once from one client (per-stage p50/p99 from the response's {@code stagesMs}, end-to-end p50/p99 measured by
 * the client) and then from {@code clients} concurrent clients (QPS). Prints a Markdown table, plus bytes per
 * vector of the loaded version. Usage: {@code java -cp quarry-serving.jar io.quarry.serving.ServeBench --index
 * <root> --queries <queries.jsonl>}.
 */
@Command(name = "serve-bench", mixinStandardHelpOptions = true)
public final class ServeBench implements Callable<Integer> {
  @Option(names = "--index", required = true) Path index;
  @Option(names = "--queries", required = true, description = "BEIR queries.jsonl") Path queries;
  @Option(names = "--limit", defaultValue = "300") int limit;
  @Option(names = "--k", defaultValue = "10") int k;
  @Option(names = "--clients", defaultValue = "8") int clients;
  @Option(names = "--threads", defaultValue = "8") int threads;
  @Option(names = "--warmup", defaultValue = "30") int warmup;

  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) {
    System.exit(new CommandLine(new ServeBench()).execute(args));
  }

  record Config(String name, String body) {}

  @Override
  public Integer call() throws Exception {
    List<String> qs = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(queries, StandardCharsets.UTF_8)) {
      String line;
      while ((line = r.readLine()) != null && qs.size() < limit) {
        if (!line.isBlank()) {
          qs.add(JSON.readTree(line).get("text").asText());
        }
      }
    }
    LocalIndexSource src = new LocalIndexSource(index);
    IndexHolder holder = new IndexHolder(src, new ModelEncoders(null, 1), null, true);
    if (!holder.refresh()) {
      System.err.println("no index: " + holder.status().reason());
      return 1;
    }
    List<Config> configs = List.of(
        new Config("bm25", "\"mode\":\"bm25\""),
        new Config("dense nprobe=8", "\"mode\":\"dense\",\"nprobe\":8"),
        new Config("dense nprobe=32", "\"mode\":\"dense\",\"nprobe\":32"),
        new Config("hybrid nprobe=16", "\"mode\":\"hybrid\",\"nprobe\":16"));
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(java.util.concurrent.Executors.newFixedThreadPool(clients))
        .build();
    StringBuilder out = new StringBuilder();
    try (SearchServer server = new SearchServer("127.0.0.1", 0, threads, holder, SearchApi.Limits.defaults())) {
      String url = "http://127.0.0.1:" + server.port() + "/search";
      LoadedIndex li = holder.acquire();
      IndexManifest m = li.version().manifest();
      li.release();
      out.append(String.format(Locale.ROOT, "index %s: %s, %d chunks, %d shards (%s), rescore %s, dim %d%n%n",
          m.version(), m.indexSpec(), m.chunks(), m.shards().size(), m.sharding(), m.rescore(), m.dim()));
      out.append(bytesPerVector(m)).append('\n');
      out.append(String.format(Locale.ROOT, "%d queries, k=%d, depths 100, re-score top 100; one client: "
          + "latency p50 / p99 in ms; %d clients: QPS%n%n", qs.size(), k, clients));
      out.append("| config | end-to-end | embed | bm25 | dense (ADC) | fusion | rescore | QPS (" + clients
          + " clients) |\n|---|---|---|---|---|---|---|---|\n");
      for (Config c : configs) {
        for (int i = 0; i < Math.min(warmup, qs.size()); i++) {
          send(http, url, c, qs.get(i));
        }
        Map<String, List<Double>> stages = new LinkedHashMap<>();
        List<Double> e2e = new ArrayList<>();
        for (String q : qs) {
          long t0 = System.nanoTime();
          JsonNode res = send(http, url, c, q);
          e2e.add((System.nanoTime() - t0) / 1e6);
          res.get("stagesMs").fields().forEachRemaining(e ->
              stages.computeIfAbsent(e.getKey(), x -> new ArrayList<>()).add(e.getValue().asDouble()));
        }
        AtomicInteger next = new AtomicInteger();
        List<Thread> ts = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int t = 0; t < clients; t++) {
          Thread th = new Thread(() -> {
            int i;
            while ((i = next.getAndIncrement()) < qs.size()) {
              try {
                send(http, url, c, qs.get(i));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            }
          });
          th.start();
          ts.add(th);
        }
        for (Thread th : ts) {
          th.join();
        }
        double qps = qs.size() / ((System.nanoTime() - t0) / 1e9);
        out.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %.1f |%n", c.name(), pp(e2e),
            pp(stages.get("embed")), pp(stages.get("bm25")), pp(stages.get("dense")), pp(stages.get("fusion")),
            pp(stages.get("rescore")), qps));
      }
    } finally {
      holder.close();
    }
    System.out.print(out);
    return 0;
  }

  private JsonNode send(HttpClient http, String url, Config c, String q) throws Exception {
    String body = "{\"query\":" + JSON.writeValueAsString(q) + ",\"k\":" + k + "," + c.body()
        + ",\"withText\":false}";
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("HTTP " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body());
  }

  static String pp(List<Double> xs) {
    if (xs == null || xs.isEmpty()) {
      return "–";
    }
    double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(a);
    return String.format(Locale.ROOT, "%.2f / %.2f", a[(int) Math.floor(0.5 * (a.length - 1))],
        a[(int) Math.ceil(0.99 * (a.length - 1))]);
  }

  static String bytesPerVector(IndexManifest m) {
    long lists = 0;
    long vectors = 0;
    long bm25 = 0;
    for (IndexManifest.Shard s : m.shards()) {
      for (IndexManifest.FileEntry f : s.files()) {
        if (f.path().endsWith("/lists.ivf")) {
          lists += f.bytes();
        } else if (f.path().endsWith("/vectors.bin")) {
          vectors += f.bytes();
        } else if (f.path().contains("/bm25/")) {
          bm25 += f.bytes();
        }
      }
    }
    double n = m.chunks();
    return String.format(Locale.ROOT, "bytes per vector: float32 %d; IVF-PQ lists (code + id) %.1f (%.1fx smaller); "
        + "re-scoring vectors (%s) %.1f; BM25 part %.1f per chunk%n", 4 * m.dim(), lists / n, 4 * m.dim() * n / lists,
        m.rescore(), vectors / n, bm25 / n);
  }
}
