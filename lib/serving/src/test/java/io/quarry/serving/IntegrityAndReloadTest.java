package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Integrity of what is served (corrupt ids and PQ code bytes, {@code --verify} / {@code --no-verify}) and reloads
 * under load: 8 client threads, 2,000 requests, while {@code CURRENT} moves between versions (and to a corrupt one),
 * with zero errors and {@code /ready} 200 throughout.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class IntegrityAndReloadTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int N = 80;

  @TempDir static Path root;
  static HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @BeforeAll
  static void build() throws Exception {
    TestIndexes.write(root, "v1", N, 2, "float32");
    TestIndexes.write(root, "v2", N, 3, "sq8");
    corrupt(TestIndexes.write(root, "bad-ids", N, 2, "float32"), Section.IDS);
    corrupt(TestIndexes.write(root, "bad-codes", N, 2, "float32"), Section.CODES);
  }

  enum Section { IDS, CODES }

  /** Flips one byte of shard 1's lists.ivf: the high byte of its first id, or a byte of its first PQ code. */
  static void corrupt(Path version, Section section) throws Exception {
    Path f = version.resolve("shard-00001/lists.ivf");
    byte[] b = Files.readAllBytes(f);
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    int header = 24; // magic, name "quarry.ivf", version, shard, padded to 8
    int nlist = bb.getInt(header);
    long n = bb.getLong(header + 8);
    int ids = header + 16 + 8 * (nlist + 1);
    int codes = (int) ((ids + 4 * n + 7) / 8 * 8);
    int at = section == Section.IDS ? ids + 3 : codes + 5;
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.seek(at);
      int x = raf.read();
      raf.seek(at);
      raf.write(x ^ 0x5a);
    }
  }

  static IndexHolder holder(boolean verify) {
    return new IndexHolder(new LocalIndexSource(root), new ModelEncoders(null, 1), null, verify);
  }

  @Test
  void verifyIsOnByDefaultAndNegatable() {
    ServeMain m = new ServeMain();
    new CommandLine(m).parseArgs("--index", "x");
    assertThat(m.verify).isTrue();
    m = new ServeMain();
    new CommandLine(m).parseArgs("--index", "x", "--verify");
    assertThat(m.verify).isTrue();
    m = new ServeMain();
    new CommandLine(m).parseArgs("--index", "x", "--no-verify");
    assertThat(m.verify).isFalse();
  }

  @Test
  void corruptIdsAreRefusedWithOrWithoutVerify() throws Exception {
    for (boolean verify : new boolean[] {true, false}) {
      TestIndexes.publish(root, "v1");
      try (IndexHolder h = holder(verify)) {
        assertThat(h.refresh()).isTrue();
        TestIndexes.publish(root, "bad-ids");
        assertThat(h.refresh()).isFalse();
        IndexHolder.Status s = h.status();
        assertThat(s.ready()).isTrue();
        assertThat(s.version()).isEqualTo("v1");
        assertThat(s.failedVersion()).isEqualTo("bad-ids");
        assertThat(s.lastReloadError()).contains("bad-ids/shard-00001/lists.ivf")
            .contains(verify ? "sha256" : "not in [0, ").doesNotContain(root.toString());
      }
    }
  }

  @Test
  void corruptCodeBytesAreRefusedByDefaultAndOnlyByTheChecksums() throws Exception {
    TestIndexes.publish(root, "v1");
    try (IndexHolder h = holder(true)) {
      assertThat(h.refresh()).isTrue();
      TestIndexes.publish(root, "bad-codes");
      assertThat(h.refresh()).isFalse();
      assertThat(h.status().version()).isEqualTo("v1");
      assertThat(h.status().lastReloadError()).contains("bad-codes/shard-00001/lists.ivf").contains("sha256");
    }
    // with --no-verify the flipped PQ code byte is a legal code: it loads (documented; the checksums are the defence)
    TestIndexes.publish(root, "bad-codes");
    try (IndexHolder h = holder(false)) {
      assertThat(h.refresh()).isTrue();
      assertThat(h.status().version()).isEqualTo("bad-codes");
    }
  }

  @Test
  void eightClientsTwoThousandRequestsWhileCurrentMovesWithoutAnyError() throws Exception {
    TestIndexes.publish(root, "v1");
    IndexHolder h = holder(true);
    assertThat(h.refresh()).isTrue();
    SearchServer server = new SearchServer("127.0.0.1", 0, h, SearchApi.Limits.defaults(),
        new SearchServer.Options(4, 64, 5_000, 10_000, 256, -1, 10_000));
    String base = "http://127.0.0.1:" + server.port();
    AtomicInteger remaining = new AtomicInteger(2000);
    Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> versions = new ConcurrentHashMap<>();
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger notReady = new AtomicInteger();
    AtomicInteger moves = new AtomicInteger();
    List<String> modes = List.of("bm25", "bm25", "rescore", "hybrid");
    try {
      Thread mover = new Thread(() -> {
        String[] cycle = {"v2", "bad-ids", "v1", "bad-codes", "v2", "v1"};
        int i = 0;
        while (!done.get()) {
          try {
            TestIndexes.publish(root, cycle[i++ % cycle.length]);
            h.refresh();
            moves.incrementAndGet();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/ready"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
              notReady.incrementAndGet();
            }
            Thread.sleep(100);
          } catch (Exception e) {
            notReady.incrementAndGet();
          }
        }
      });
      mover.start();
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < 8; c++) {
        int id = c;
        Thread t = new Thread(() -> {
          int j = 0;
          while (remaining.getAndDecrement() > 0) {
            String mode = modes.get((id + j++) % modes.size());
            String body = "{\"query\":\"protein expression in tumor cells " + (j % 7) + "\",\"k\":5,\"mode\":\""
                + mode + "\",\"withText\":false}";
            String outcome;
            try {
              HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/search"))
                  .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                  HttpResponse.BodyHandlers.ofString());
              outcome = Integer.toString(r.statusCode());
              if (r.statusCode() == 200) {
                JsonNode j2 = JSON.readTree(r.body());
                versions.computeIfAbsent(j2.get("version").asText(), k -> new AtomicInteger()).incrementAndGet();
                if (j2.get("hits").size() != 5) {
                  outcome = "short";
                }
              } else {
                outcome += " " + r.body();
              }
            } catch (Exception e) {
              outcome = e.toString();
            }
            outcomes.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
          }
        });
        t.start();
        clients.add(t);
      }
      long t0 = System.nanoTime();
      for (Thread t : clients) {
        t.join(200_000);
      }
      System.out.println("reload-under-load test: 2000 requests in " + (System.nanoTime() - t0) / 1_000_000
          + " ms, " + moves.get() + " CURRENT moves, outcomes " + outcomes + ", versions " + versions);
      done.set(true);
      mover.join(10_000);
    } finally {
      done.set(true);
      server.close();
      h.close();
    }
    assertThat(outcomes).containsOnlyKeys("200");
    assertThat(outcomes.get("200").get()).isEqualTo(2000);
    assertThat(notReady.get()).isZero();
    assertThat(moves.get()).isGreaterThan(3);
    assertThat(versions.keySet()).contains("v1", "v2").doesNotContain("bad-ids", "bad-codes");
  }

  @AfterAll
  static void cleanup() throws Exception {
    TestIndexes.publish(root, "v1");
  }
}
