package io.quarry.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.segment.IndexManifest;
import java.io.BufferedReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
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
 * Latency and throughput benchmark of the serving path over HTTP: starts the server in-process on the index root's
 * published version, then for each configuration ({@code bm25}, {@code rescore} nprobe 8 and 32, {@code hybrid}
 * nprobe 16; {@code --configs} selects) sends every query once from one client (per-stage p50/p99 from the
 * response's {@code stagesMs}, end-to-end p50/p99 measured by the client) and then from {@code clients} concurrent
 * clients (QPS). Prints two Markdown tables, plus bytes per vector of the loaded version:
 *
 * <ol>
 *   <li>latency per stage (one client) and QPS ({@code clients} clients);
 *   <li>throughput against the CPU bound (issue 13's serving target): the CPU time per query measured during the
 *       one-client pass — the sum over every JVM thread of {@link ThreadMXBean#getThreadCpuTime} (server, search,
 *       ONNX Runtime's intra-op work on the search thread, and the in-process HTTP client), divided by the queries —
 *       the bound {@code cores / CPU-seconds per query} (queries per second the machine's {@code --cores} could
 *       serve if they did nothing else), the measured QPS with {@code clients} clients and its fraction of the
 *       bound, and the errors (non-200 answers or failed requests) of both passes. The process CPU time
 *       ({@code OperatingSystemMXBean}, which adds GC and JIT threads) per query is printed beside it. Threads that
 *       end during a pass lose their CPU time from the sum (the server's pools keep their threads).
 * </ol>
 *
 * Usage: {@code java --add-modules jdk.incubator.vector -cp quarry-serving.jar io.quarry.serving.ServeBench --index
 * <root> --queries <queries.jsonl> [--configs hybrid] [--clients 8] [--cores 2]}. See docs/benchmarks.md, "Serving
 * latency and throughput".
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
  @Option(names = "--configs", split = ",", defaultValue = "bm25,rescore8,rescore32,hybrid",
      description = "comma-separated subset of bm25, rescore8, rescore32, hybrid (nprobe 16), hybrid-tuned (the index's "
          + "tuned search defaults); default: the first four")
  List<String> configNames;
  @Option(names = "--cores", description = "cores of the CPU bound (default: available processors)")
  Integer cores;

  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) {
    System.exit(new CommandLine(new ServeBench()).execute(args));
  }

  record Config(String name, String body) {}

  private static final Map<String, Config> CONFIGS = Map.of(
      "hybrid-tuned", new Config("hybrid (index's tuned nprobe, depths, fusion)", "\"mode\":\"hybrid\""),
      "bm25", new Config("bm25", "\"mode\":\"bm25\""),
      "rescore8", new Config("rescore nprobe=8", "\"mode\":\"rescore\",\"nprobe\":8"),
      "rescore32", new Config("rescore nprobe=32", "\"mode\":\"rescore\",\"nprobe\":32"),
      "hybrid", new Config("hybrid nprobe=16", "\"mode\":\"hybrid\",\"nprobe\":16"));

  /** Config names before the stage vocabulary of issue 24 (mode {@code dense} is {@code rescore}). */
  private static final Map<String, String> DEPRECATED_CONFIGS = Map.of("dense8", "rescore8", "dense32", "rescore32");

  /** Result of one request: the parsed body on HTTP 200, else null (an error). */
  private record Answer(JsonNode body, String error) {}

  /** CPU nanoseconds of every live JVM thread ({@link ThreadMXBean#getThreadCpuTime}; −1 entries skipped). */
  static Map<Long, Long> threadCpu(ThreadMXBean mx) {
    Map<Long, Long> out = new java.util.HashMap<>();
    for (long id : mx.getAllThreadIds()) {
      long t = mx.getThreadCpuTime(id);
      if (t >= 0) {
        out.put(id, t);
      }
    }
    return out;
  }

  /** CPU nanoseconds spent between two {@link #threadCpu} snapshots (threads new in {@code after} count from 0). */
  static long cpuDelta(Map<Long, Long> before, Map<Long, Long> after) {
    long sum = 0;
    for (Map.Entry<Long, Long> e : after.entrySet()) {
      sum += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L));
    }
    return sum;
  }

  private static long processCpu() {
    java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean s ? s.getProcessCpuTime() : -1;
  }

  @Override
  public Integer call() throws Exception {
    String report = report();
    if (report == null) {
      return 1;
    }
    System.out.print(report);
    return 0;
  }

  /**
   * Runs the benchmark and returns the report (the tables), or null after printing why it could not run.
   *
   * @throws IllegalArgumentException on an unknown {@code --configs} name
   */
  String report() throws Exception {
    List<Config> configs = configs();
    List<String> qs = readQueries();
    IndexHolder holder = new IndexHolder(new LocalIndexSource(index), new ModelEncoders(null, 1), null, true);
    if (!holder.refresh()) {
      System.err.println("no index: " + holder.status().reason());
      return null;
    }
    int ncores = cores != null ? cores : Runtime.getRuntime().availableProcessors();
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    if (!mx.isThreadCpuTimeSupported()) {
      System.err.println("this JVM cannot measure thread CPU time");
      return null;
    }
    mx.setThreadCpuTimeEnabled(true);
    StringBuilder bound = new StringBuilder();
    bound.append(String.format(Locale.ROOT, "CPU bound on %d cores: CPU ms per query = all JVM threads' CPU time "
        + "(ThreadMXBean) in the one-client pass / queries; bound QPS = cores / CPU seconds per query%n%n", ncores));
    bound.append("| config | end-to-end p50 / p99 ms (1 client) | CPU ms / query (threads; process) | bound QPS | QPS ("
        + clients + " clients) | QPS / bound | errors (1 client; " + clients + " clients) |\n"
        + "|---|---|---|---|---|---|---|\n");
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .executor(java.util.concurrent.Executors.newFixedThreadPool(clients)).build();
    StringBuilder out = new StringBuilder();
    try (SearchServer server = new SearchServer("127.0.0.1", 0, threads, holder, SearchApi.Limits.defaults())) {
      String url = "http://127.0.0.1:" + server.port() + "/search";
      out.append(header(holder, qs.size()));
      for (Config c : configs) {
        for (int i = 0; i < Math.min(warmup, qs.size()); i++) {
          send(http, url, c, qs.get(i));
        }
        OneClient one = oneClient(http, url, c, qs, mx);
        Clients many = clients(http, url, c, qs);
        double boundQps = ncores / (one.cpuMs() / 1e3);
        out.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %.1f |%n", c.name(),
            pp(one.e2e()), pp(one.stages().get("embed")), pp(one.stages().get("bm25")),
            pp(one.stages().get(HybridSearcher.IVFPQ)), pp(one.stages().get(HybridSearcher.RESCORE)),
            pp(one.stages().get(HybridSearcher.HYBRID)),
            many.qps()));
        bound.append(String.format(Locale.ROOT, "| %s | %s | %.2f; %.2f | %.1f | %.1f | %.0f %% | %d; %d%s |%n",
            c.name(), pp(one.e2e()), one.cpuMs(), one.procMs(), boundQps, many.qps(), 100 * many.qps() / boundQps,
            one.errors(), many.errors(), many.errorKinds().isEmpty() ? "" : " " + many.errorKinds()));
      }
      out.append('\n').append(bound);
    } finally {
      holder.close();
    }
    return out.toString();
  }

  private List<Config> configs() {
    List<Config> configs = new ArrayList<>();
    for (String name : configNames) {
      Config c = CONFIGS.get(DEPRECATED_CONFIGS.getOrDefault(name.trim(), name.trim()));
      if (c == null) {
        throw new IllegalArgumentException("--configs: unknown config '" + name + "' (bm25, rescore8, rescore32, hybrid, hybrid-tuned)");
      }
      configs.add(c);
    }
    return configs;
  }

  /** The first {@code --limit} query texts of the BEIR queries file. */
  private List<String> readQueries() throws java.io.IOException {
    List<String> qs = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(queries, StandardCharsets.UTF_8)) {
      String line;
      while ((line = r.readLine()) != null && qs.size() < limit) {
        if (!line.isBlank()) {
          qs.add(JSON.readTree(line).get("text").asText());
        }
      }
    }
    return qs;
  }

  /** The report's first lines: the served index and the run's shape. */
  private String header(IndexHolder holder, int queries) {
    LoadedIndex li = holder.acquire();
    IndexManifest m = li.version().manifest();
    li.release();
    return String.format(Locale.ROOT, "index %s: %s, %d chunks, %d shards (%s), rescore %s, dim %d%n%n",
        m.version(), m.indexSpec(), m.chunks(), m.shards().size(), m.sharding(), m.rescore(), m.dim())
        + bytesPerVector(m) + '\n'
        + String.format(Locale.ROOT, "%d queries, k=%d, depths 100, re-score top 100; one client: "
        + "latency p50 / p99 in ms; %d clients: QPS%n%n", queries, k, clients)
        + "| config | end-to-end | embed | bm25 | ivfpq (ADC) | rescore | hybrid | QPS (" + clients
        + " clients) |\n|---|---|---|---|---|---|---|---|\n";
  }

  /**
   * The one-client pass: end-to-end and per-stage latencies (ms), failed requests, and CPU ms per query (all JVM
   * threads; the process, NaN where the JVM cannot tell).
   */
  private record OneClient(List<Double> e2e, Map<String, List<Double>> stages, int errors, double cpuMs,
      double procMs) {}

  private OneClient oneClient(HttpClient http, String url, Config c, List<String> qs, ThreadMXBean mx) {
    Map<String, List<Double>> stages = new LinkedHashMap<>();
    List<Double> e2e = new ArrayList<>();
    int errors = 0;
    Map<Long, Long> cpu0 = threadCpu(mx);
    long proc0 = processCpu();
    for (String q : qs) {
      long t0 = System.nanoTime();
      Answer a = send(http, url, c, q);
      e2e.add((System.nanoTime() - t0) / 1e6);
      if (a.body() == null) {
        errors++;
        continue;
      }
      a.body().get("stagesMs").fields().forEachRemaining(e ->
          stages.computeIfAbsent(e.getKey(), x -> new ArrayList<>()).add(e.getValue().asDouble()));
    }
    double cpuMs = cpuDelta(cpu0, threadCpu(mx)) / 1e6 / qs.size();
    long proc1 = processCpu();
    double procMs = proc0 < 0 || proc1 < 0 ? Double.NaN : (proc1 - proc0) / 1e6 / qs.size();
    return new OneClient(e2e, stages, errors, cpuMs, procMs);
  }

  /** The {@code --clients} pass: queries per second, failed requests and their kinds. */
  private record Clients(double qps, int errors, Map<String, Integer> errorKinds) {}

  private Clients clients(HttpClient http, String url, Config c, List<String> qs) throws InterruptedException {
    AtomicInteger next = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    Map<String, Integer> errorKinds = new java.util.concurrent.ConcurrentHashMap<>();
    List<Thread> ts = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int t = 0; t < clients; t++) {
      Thread th = new Thread(() -> {
        int i;
        while ((i = next.getAndIncrement()) < qs.size()) {
          Answer a = send(http, url, c, qs.get(i));
          if (a.body() == null) {
            errors.incrementAndGet();
            errorKinds.merge(a.error(), 1, Integer::sum);
          }
        }
      });
      th.start();
      ts.add(th);
    }
    for (Thread th : ts) {
      th.join();
    }
    return new Clients(qs.size() / ((System.nanoTime() - t0) / 1e9), errors.get(), errorKinds);
  }

  /** One request; never throws: a non-200 answer or a failed request is an {@link Answer} with an error. */
  private Answer send(HttpClient http, String url, Config c, String q) {
    try {
      String body = "{\"query\":" + JSON.writeValueAsString(q) + ",\"k\":" + k + "," + c.body()
          + ",\"withText\":false}";
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return new Answer(null, "HTTP " + r.statusCode());
      }
      return new Answer(JSON.readTree(r.body()), null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(null, "interrupted");
    } catch (Exception e) {
      return new Answer(null, e.getClass().getSimpleName());
    }
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
