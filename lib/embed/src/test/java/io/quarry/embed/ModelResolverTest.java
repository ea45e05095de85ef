package io.quarry.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.quarry.core.config.EmbeddingConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ModelResolver} without the network: a fake local Maven repository and a fake remote one (Maven layout
 * under a temp directory, served over HTTP on loopback by the JDK's server), a cache in a temp directory.
 */
class ModelResolverTest {
  private static final String GROUP = "org.example.models";
  private static final String ARTIFACT = "fake-embeddings-tiny";
  private static final String VERSION = "1.0.2";
  private static final ModelSpec FAKE = new ModelSpec("tiny", "tiny", GROUP + ":" + ARTIFACT + ":" + VERSION,
      Pooling.MEAN, "", "", "MIT", 1);
  private static final String JAR_PATH =
      GROUP.replace('.', '/') + "/" + ARTIFACT + "/" + VERSION + "/" + ARTIFACT + "-" + VERSION + ".jar";

  @TempDir Path tmp;
  private HttpServer server;
  private Path remoteRoot;
  private final Map<String, AtomicInteger> gets = new ConcurrentHashMap<>();

  @BeforeEach
  void startRemote() throws IOException {
    remoteRoot = Files.createDirectories(tmp.resolve("remote"));
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", ex -> {
      Path f = remoteRoot.resolve(ex.getRequestURI().getPath().substring(1)).normalize();
      boolean head = "HEAD".equals(ex.getRequestMethod());
      if (!f.startsWith(remoteRoot) || !Files.isRegularFile(f)) {
        ex.sendResponseHeaders(404, -1);
      } else if (head) {
        ex.sendResponseHeaders(200, -1);
      } else {
        gets.computeIfAbsent(remoteRoot.relativize(f).toString(), k -> new AtomicInteger()).incrementAndGet();
        byte[] body = Files.readAllBytes(f);
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream os = ex.getResponseBody()) {
          os.write(body);
        }
      }
      ex.close();
    });
    server.start();
  }

  @AfterEach
  void stopRemote() {
    if (server != null) {
      server.stop(0);
    }
  }

  private String remoteUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
  }

  @Test
  void localMavenRepositoryWinsWithoutAnyNetwork() throws Exception {
    Path m2 = tmp.resolve("m2");
    byte[] jar = jar(Map.of("tiny.onnx", "onnx-from-m2", "tiny-tokenizer.json", "{}"));
    Path inM2 = write(m2.resolve(JAR_PATH), jar);
    server.stop(0);
    server = null;
    ModelResolver r = new ModelResolver(m2, tmp.resolve("cache"), "http://127.0.0.1:9/");

    assertThat(r.findLocal(FAKE)).contains(inM2.toAbsolutePath());
    assertThat(r.resolve(FAKE)).isEqualTo(inM2.toAbsolutePath());
    assertThat(tmp.resolve("cache")).doesNotExist();
  }

  @Test
  void downloadsIntoTheCacheOnceThenWorksOffline() throws Exception {
    byte[] jar = jar(Map.of("tiny.onnx", "onnx-from-remote", "tiny-tokenizer.json", "{\"v\":1}"));
    write(remoteRoot.resolve(JAR_PATH), jar);
    write(remoteRoot.resolve(JAR_PATH + ".sha1"), sha1(jar).getBytes(StandardCharsets.US_ASCII));
    Path cache = tmp.resolve("cache");
    ModelResolver r = new ModelResolver(tmp.resolve("empty-m2"), cache, remoteUrl());
    assertThat(r.findLocal(FAKE)).isEmpty();

    Path got = r.resolve(FAKE);

    assertThat(got).startsWith(cache).isRegularFile();
    assertThat(Files.readAllBytes(got)).isEqualTo(jar);
    assertThat(gets.get(JAR_PATH)).hasValue(1);
    assertThat(gets).containsKey(JAR_PATH + ".sha1"); // the checksum was fetched (and matched)
    // offline now: the cache answers, with no request
    server.stop(0);
    server = null;
    ModelResolver offline = new ModelResolver(tmp.resolve("empty-m2"), cache, "http://127.0.0.1:9/");
    assertThat(offline.findLocal(FAKE)).contains(got);
    assertThat(offline.resolve(FAKE)).isEqualTo(got);
  }

  @Test
  void aChecksumMismatchIsRefusedAndNothingIsCached() throws Exception {
    byte[] jar = jar(Map.of("tiny.onnx", "tampered", "tiny-tokenizer.json", "{}"));
    write(remoteRoot.resolve(JAR_PATH), jar);
    write(remoteRoot.resolve(JAR_PATH + ".sha1"),
        sha1("something else".getBytes(StandardCharsets.UTF_8)).getBytes(StandardCharsets.US_ASCII));
    Path cache = tmp.resolve("cache");
    ModelResolver r = new ModelResolver(tmp.resolve("empty-m2"), cache, remoteUrl());

    assertThatThrownBy(() -> r.resolve(FAKE)).isInstanceOf(EmbedderException.class)
        .hasMessageContaining(FAKE.artifact());
    assertThat(r.findLocal(FAKE)).isEmpty();
  }

  @Test
  void offlineErrorNamesTheArtifactAndThePrefetchCommand() {
    server.stop(0);
    server = null;
    ModelResolver r = new ModelResolver(tmp.resolve("empty-m2"), tmp.resolve("cache"), "http://127.0.0.1:9/");

    assertThatThrownBy(() -> r.resolve(FAKE)).isInstanceOf(EmbedderException.class)
        .hasMessageContaining("org.example.models:fake-embeddings-tiny:1.0.2")
        .hasMessageContaining("bin/quarry models --fetch tiny")
        .hasMessageContaining("mvn dependency:get -Dartifact=org.example.models:fake-embeddings-tiny:1.0.2")
        .hasMessageContaining(tmp.resolve("cache").toString());
  }

  @Test
  void missingFromTheRemoteRepositoryFailsNamingIt() {
    ModelResolver r = new ModelResolver(tmp.resolve("empty-m2"), tmp.resolve("cache"), remoteUrl());

    assertThatThrownBy(() -> r.resolve(FAKE)).isInstanceOf(EmbedderException.class)
        .hasMessageContaining(FAKE.artifact()).hasMessageContaining(remoteUrl());
  }

  @Test
  void modelFilesReadABundledModelFromTheJarModelPathNames() throws Exception {
    // how a jar shipped to an executor is read: the jar's entries win over the classpath copy of the same id
    byte[] onnx = "not-really-onnx".getBytes(StandardCharsets.UTF_8);
    Path jar = write(tmp.resolve("shipped/e5.jar"),
        jar(Map.of("e5-small-v2-q.onnx", "not-really-onnx", "e5-small-v2-q-tokenizer.json", "{\"tok\":1}")));
    EmbeddingConfig cfg = new EmbeddingConfig("e5-small-v2-q", jar.toString(), 1, 512, 1);

    ModelFiles f = ModelFiles.load(cfg);

    assertThat(f.onnx()).isEqualTo(onnx);
    assertThat(f.sha256()).isEqualTo(ModelFiles.sha256(onnx));
    assertThat(new String(ModelFiles.loadTokenizerJson(cfg), StandardCharsets.UTF_8)).isEqualTo("{\"tok\":1}");
    assertThat(f.spec().id()).isEqualTo("e5-small-v2-q");

    Path wrong = write(tmp.resolve("shipped/other.jar"), jar(Map.of("x.onnx", "x")));
    assertThatThrownBy(() -> ModelFiles.load(new EmbeddingConfig("e5-small-v2-q", wrong.toString(), 1, 512, 1)))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("e5-small-v2-q.onnx")
        .hasMessageContaining(ModelSpec.bundled("e5-small-v2-q").orElseThrow().artifact());
  }

  @Test
  void everyBundledModelHasMavenCoordinatesAndALicence() {
    for (ModelSpec m : ModelSpec.BUNDLED) {
      assertThat(m.artifact().split(":")).as(m.id()).hasSize(3);
      assertThat(m.licence()).as(m.id()).isIn("Apache-2.0", "MIT");
      assertThat(m.jarMb()).as(m.id()).isPositive();
    }
    assertThat(ModelSpec.BUNDLED).extracting(ModelSpec::id)
        .containsExactlyInAnyOrderElementsOf(EmbeddingConfig.BUNDLED_MODELS);
  }

  static byte[] jar(Map<String, String> entries) throws IOException {
    var bytes = new java.io.ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (String name : List.copyOf(new java.util.TreeSet<>(entries.keySet()))) {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(entries.get(name).getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  private static Path write(Path p, byte[] bytes) throws IOException {
    Files.createDirectories(p.getParent());
    return Files.write(p, bytes);
  }

  private static String sha1(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
  }
}
