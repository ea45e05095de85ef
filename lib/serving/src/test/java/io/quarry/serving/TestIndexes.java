package io.quarry.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.config.EmbeddingConfig;
import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.quant.train.QuantizerTrainer;
import io.quarry.core.segment.Checksums;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.ShardEntry;
import io.quarry.core.segment.ShardWriter;
import io.quarry.core.segment.Sharding;
import io.quarry.embed.Embedder;
import io.quarry.lexical.Bm25ShardWriter;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Builds small real index versions for the serving tests without Spark: documents of {@code data-samples/scifact}
 * (one chunk per document, title + text cut at 1,200 chars), embedded with the bundled bge-small-en-v1.5-q, a
 * quantizer trained in memory, and the same lib writers the build job uses.
 */
final class TestIndexes {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path SAMPLES = Path.of("../../data-samples/scifact");
  static final EmbeddingConfig EMB = new EmbeddingConfig("bge-small-en-v1.5-q", "", 32, 256, 2);

  record Doc(String id, String title, String text) {}

  private static List<Doc> docs;
  private static float[][] vectors;

  static synchronized List<Doc> docs(int n) throws Exception {
    if (docs == null || docs.size() < n) {
      List<Doc> out = new ArrayList<>();
      try (BufferedReader r = Files.newBufferedReader(SAMPLES.resolve("corpus.jsonl"), StandardCharsets.UTF_8)) {
        String line;
        while ((line = r.readLine()) != null && out.size() < n) {
          JsonNode j = JSON.readTree(line);
          String text = j.get("text").asText();
          out.add(new Doc(j.get("_id").asText(), j.path("title").asText(""),
              text.length() > 1200 ? text.substring(0, 1200) : text));
        }
      }
      List<String> passages = out.stream().map(d -> d.title() + "\n" + d.text()).toList();
      docs = out;
      vectors = Embedder.open(EMB).embedPassages(passages);
    }
    return docs.subList(0, n);
  }

  static Embedder embedder() {
    return Embedder.open(EMB);
  }

  /**
   * Writes {@code root/<version>/} with {@code shards} hash shards over the first {@code n} sample documents.
   *
   * @return the version directory
   */
  static Path write(Path root, String version, int n, int shards, String rescore) throws Exception {
    List<Doc> ds = docs(n);
    int d = vectors[0].length;
    float[] x = new float[n * d];
    for (int i = 0; i < n; i++) {
      System.arraycopy(vectors[i], 0, x, i * d, d);
    }
    IndexSpec spec = IndexSpec.parse("IVF4,PQ16x4");
    QuantizerModel q = QuantizerTrainer.train(x, n, d, spec, DistanceMetric.IP, QuantizerTrainer.Params.defaults(42));
    List<List<ShardEntry>> parts = new ArrayList<>();
    for (int s = 0; s < shards; s++) {
      parts.add(new ArrayList<>());
    }
    for (int i = 0; i < n; i++) {
      Doc doc = ds.get(i);
      QuantizerModel.Encoded e = q.encodeVector(vectors[i]);
      parts.get(Sharding.hashShard(doc.id(), shards)).add(new ShardEntry(doc.id() + "#0", doc.id(), 0, 0,
          doc.text().length(), doc.title(), doc.text(), e.list(), e.code(), vectors[i]));
    }
    Path vdir = root.resolve(version);
    Files.createDirectories(vdir);
    byte[] qb = QuantizerFormat.toBytes(q);
    Files.write(vdir.resolve("quantizer.bin"), qb);
    List<IndexManifest.Shard> ms = new ArrayList<>();
    for (int s = 0; s < shards; s++) {
      List<ShardEntry> p = parts.get(s);
      p.sort(Comparator.comparing(ShardEntry::chunkId));
      Path sd = vdir.resolve(IndexManifest.shardDir(s));
      ShardWriter.Stats st = ShardWriter.writeDense(sd, s, q.nlist(), q.codeSize(), d, rescore, p);
      Bm25ShardWriter.write(sd, p, 0.9, 0.4);
      ms.add(new IndexManifest.Shard(s, IndexManifest.shardDir(s), st.chunks(), st.docs(), 0, q.nlist(),
          Checksums.list(vdir, sd)));
    }
    Embedder emb = embedder();
    JsonNode config = JSON.readTree("{\"embedding\":{\"model\":\"" + EMB.model() + "\",\"modelPath\":\"\","
        + "\"maxSeqLength\":" + EMB.maxSeqLength() + "}}");
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT_VERSION, version, spec.toString(), "ip", d, q.nlist(),
        q.codeSize(), "hash", rescore, new IndexManifest.Model(emb.modelId(), emb.modelSha256(), d),
        new IndexManifest.Bm25(0.9, 0.4, "lucene-english-porter"),
        new IndexManifest.FileEntry("quantizer.bin", qb.length, Checksums.sha256(qb)), ms, n, n, "test",
        config, "quarry test", null);
    Files.write(vdir.resolve(IndexManifest.FILE_NAME), m.toJson());
    return vdir;
  }

  static void publish(Path root, String version) throws Exception {
    Path tmp = root.resolve("CURRENT.tmp");
    Files.writeString(tmp, version + "\n");
    Files.move(tmp, root.resolve("CURRENT"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  private TestIndexes() {}
}
