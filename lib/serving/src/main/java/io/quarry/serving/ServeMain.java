package io.quarry.serving;

import io.quarry.embed.OnnxCrossEncoder;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar quarry-serving.jar --index <dir | s3://bucket/prefix> [--port 8080]}: loads the version
 * {@code CURRENT} names, serves the HTTP API ({@link SearchServer}) and reloads when {@code CURRENT} changes.
 */
@Command(name = "quarry-serve", mixinStandardHelpOptions = true,
    description = "Serves a Quarry index version over HTTP (POST /search, GET /health, /ready, /metrics).")
public final class ServeMain implements Callable<Integer> {
  @Option(names = "--index", required = true, description = "Index root: a local directory or s3://bucket/prefix "
      + "(holding CURRENT and version directories).")
  String index;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Bind address (default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", defaultValue = "8080", description = "Port (default ${DEFAULT-VALUE}; 0 = any free).")
  int port;

  @Option(names = "--admin-port", defaultValue = "8081", description = "Port of the admin connector answering only "
      + "GET /health, /ready and /metrics (also answered on --port), which a main port full of slow clients cannot "
      + "starve; same host (default ${DEFAULT-VALUE}; 0 = any free; -1 = none).")
  int adminPort;

  @Option(names = "--threads", defaultValue = "8", description = "Search threads (default ${DEFAULT-VALUE}); "
      + "health, readiness and metrics are answered on separate HTTP threads.")
  int threads;

  @Option(names = "--queue", defaultValue = "64", description = "Searches waiting for a search thread before new "
      + "ones are refused with 503 (default ${DEFAULT-VALUE}).")
  int queue;

  @Option(names = "--idle-timeout-ms", defaultValue = "5000", description = "A connection with no bytes read or "
      + "written for this long is closed, e.g. a stalled request body (milliseconds, default ${DEFAULT-VALUE}).")
  long idleTimeoutMs;

  @Option(names = "--request-timeout-ms", defaultValue = "10000", description = "A connection must deliver a whole "
      + "request, headers and body, within this long of opening or of its previous response, else it is closed "
      + "(408 if the body was late), however steadily it trickles bytes (milliseconds, default ${DEFAULT-VALUE}).")
  long requestTimeoutMs;

  @Option(names = "--max-connections", defaultValue = "1024", description = "Open connections on --port at most; "
      + "beyond, new ones wait in the accept queue (default ${DEFAULT-VALUE}; the admin port takes "
      + SearchServer.Options.ADMIN_CONNECTIONS + " more).")
  int maxConnections;

  @Option(names = "--max-body-bytes", defaultValue = "16384", description = "Largest request body; larger ones "
      + "get 413 (default ${DEFAULT-VALUE}).")
  int maxBodyBytes;

  @Option(names = "--cache", defaultValue = "${java.io.tmpdir}/quarry-serving-cache",
      description = "Local cache for versions downloaded from S3 (default ${DEFAULT-VALUE}).")
  Path cache;

  @Option(names = "--s3-endpoint", description = "S3 endpoint override (S3-compatible servers), e.g. "
      + "http://127.0.0.1:9000; path-style access is used when set.")
  String s3Endpoint;

  @Option(names = "--s3-timeout-ms", defaultValue = "10000", description = "Connect and read timeout of every S3 "
      + "request: a response, or the next bytes of an object, not arriving within it fails the request (the SDK "
      + "makes up to 4 attempts per request); a reload that still fails keeps the served version and is retried at "
      + "the next poll (milliseconds, default ${DEFAULT-VALUE}).")
  long s3TimeoutMs;

  @Option(names = "--s3-region", defaultValue = "us-east-1", description = "S3 region (default ${DEFAULT-VALUE}).")
  String s3Region;

  @Option(names = "--reload-seconds", defaultValue = "10", description = "How often CURRENT is checked.")
  int reloadSeconds;

  @Option(names = "--verify", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Verify every file of a version (size + SHA-256 from the manifest, CRC32 of segment files) "
          + "before serving it; on by default, --no-verify skips it (IVF list ids are checked either way, corrupt "
          + "PQ code bytes are then not detected).")
  boolean verify;

  @Option(names = "--model-path", description = "For custom embedding models: local directory with model.onnx "
      + "and tokenizer.json (its SHA-256 must match the manifest).")
  String modelPath;

  @Option(names = "--rerank-model", description = "Directory with a cross-encoder model.onnx + tokenizer.json; "
      + "enables \"rerank\": true in requests.")
  Path rerankModel;

  @Option(names = "--rerank-max-length", defaultValue = "512", description = "Tokens per (query, passage) pair.")
  int rerankMaxLength;

  @Option(names = "--max-k", defaultValue = "100") int maxK;
  @Option(names = "--max-depth", defaultValue = "1000") int maxDepth;
  @Option(names = "--max-query-chars", defaultValue = "2000") int maxQueryChars;

  public static void main(String[] args) {
    int rc = new CommandLine(new ServeMain()).execute(args);
    if (rc != 0) {
      System.exit(rc);
    }
  }

  @Override
  public Integer call() throws Exception {
    IndexSource source = index.startsWith("s3://") || index.startsWith("s3a://")
        ? S3IndexSource.create(index, s3Endpoint, s3Region, cache, s3TimeoutMs)
        : new LocalIndexSource(Path.of(index));
    OnnxCrossEncoder reranker = rerankModel == null ? null : new OnnxCrossEncoder(rerankModel, rerankMaxLength);
    IndexHolder holder = new IndexHolder(source, new ModelEncoders(modelPath, 1), reranker, verify);
    holder.refresh();
    holder.startPolling(reloadSeconds * 1000L);
    SearchApi.Limits limits = new SearchApi.Limits(maxQueryChars, maxK, maxDepth, 1024, maxBodyBytes);
    SearchServer server = new SearchServer(host, port, holder, limits,
        new SearchServer.Options(threads, queue, idleTimeoutMs, requestTimeoutMs, maxConnections, adminPort, 10_000));
    IndexHolder.Status s = holder.status();
    System.out.println("quarry-serve: http://" + host + ":" + server.port()
        + (server.adminPort() >= 0 ? "  admin http://" + host + ":" + server.adminPort() : "")
        + "  index " + source.describe()
        + "  " + (s.ready() ? "serving " + s.version() : "NOT READY: " + s.reason())
        + (verify ? "" : "  (--no-verify: file checksums not checked)"));
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close(); // graceful: in-flight requests finish first
      holder.close();
      done.countDown();
    }));
    done.await();
    return 0;
  }
}
