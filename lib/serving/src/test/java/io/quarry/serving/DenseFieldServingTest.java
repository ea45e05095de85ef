package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.config.EmbeddingConfig;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.search.SearchOptions;
import io.quarry.core.segment.Checksums;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import io.quarry.core.segment.RescoreVectorsFile;
import io.quarry.embed.Embedder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 26: a version with an extra dense field (e5-small-v2-q beside the primary bge) is served with both models —
 * each query embedded by each, every hybrid hit scored by both — and a version whose field was computed with other
 * weights than the model the server loads is refused, like a primary model mismatch.
 */
class DenseFieldServingTest {
  static final String E5 = "e5-small-v2-q";

  @TempDir Path root;

  /** Adds an e5 dense field over the version's chunks (the same passages, embedded with e5) with {@code sha}. */
  static void addE5Field(Path vdir, String sha) throws Exception {
    IndexManifest m = IndexVersion.readManifest(vdir);
    IndexVersion v = IndexVersion.open(vdir, false);
    Embedder e5 = Embedder.open(new EmbeddingConfig(E5, "", 16, 256, 1));
    List<TestIndexes.Doc> docs = TestIndexes.docs((int) m.chunks());
    java.util.Map<String, String> passage = new java.util.HashMap<>();
    docs.forEach(d -> passage.put(d.id(), d.title() + "\n" + d.text()));
    String rel = IndexManifest.DenseField.pathOf(E5);
    List<IndexManifest.Shard> shards = new ArrayList<>();
    for (IndexManifest.Shard s : m.shards()) {
      var table = v.shards().get(s.id()).table();
      List<String> texts = new ArrayList<>();
      for (int id = 0; id < table.size(); id++) {
        texts.add(passage.get(table.docId(id)));
      }
      float[][] y = e5.embedPassages(texts);
      float[] rows = new float[y.length * e5.dim()];
      for (int i = 0; i < y.length; i++) {
        System.arraycopy(y[i], 0, rows, i * e5.dim(), e5.dim());
      }
      Path f = vdir.resolve(s.dir()).resolve(rel);
      Files.createDirectories(f.getParent());
      RescoreVectorsFile.write(f, s.id(), RescoreVectorsFile.Encoding.FLOAT32, e5.dim(), rows);
      List<IndexManifest.FileEntry> files = new ArrayList<>(s.files());
      files.add(new IndexManifest.FileEntry(s.dir() + "/" + rel, Files.size(f), Checksums.sha256(f)));
      shards.add(new IndexManifest.Shard(s.id(), s.dir(), s.chunks(), s.docs(), s.listFrom(), s.listTo(), files));
    }
    IndexManifest withField = m.withDenseFields(List.of(new IndexManifest.DenseField(E5,
        new IndexManifest.Model(E5, sha, e5.dim()), rel, "float32")), shards);
    Files.write(vdir.resolve(IndexManifest.FILE_NAME), withField.toJson());
  }

  @Test
  void servesWithBothModelsAndRefusesAFieldOfAnotherModel() throws Exception {
    String e5Sha = Embedder.open(new EmbeddingConfig(E5, "", 16, 256, 1)).modelSha256();
    addE5Field(TestIndexes.write(root, "v1", 40, 2, "float32"), e5Sha);
    TestIndexes.publish(root, "v1");
    try (IndexHolder h = new IndexHolder(new LocalIndexSource(root), new ModelEncoders(null, 1), null, true)) {
      assertThat(h.refresh()).isTrue();
      LoadedIndex li = h.acquire();
      try {
        HybridSearcher s = li.searcher();
        assertThat(s.fieldSignals()).containsExactly("dense@" + E5);
        HybridSearcher.Result r = s.search(new HybridSearcher.Request("stem cells and cancer",
            SearchOptions.builder().k(5).build()));
        assertThat(r.hits()).hasSize(5);
        for (HybridSearcher.Hit hit : r.hits()) {
          assertThat(hit.stages()).containsKeys("rescore", "bm25", "dense@" + E5, "hybrid");
        }
        // the field's query is e5's own embedding of the query ("query: " prefix), not bge's
        Embedder e5 = Embedder.open(new EmbeddingConfig(E5, "", 16, 256, 1));
        float[] q = e5.embedQueries(List.of("stem cells and cancer"))[0];
        List<io.quarry.core.search.ScoredChunk> own = s.searchField("dense@" + E5, "stem cells and cancer", 1);
        float[] stored = new float[e5.dim()];
        s.version().fieldVectors(E5).get(own.get(0).shard()).get(own.get(0).id(), stored);
        float dot = 0;
        for (int j = 0; j < stored.length; j++) {
          dot += q[j] * stored[j];
        }
        assertThat(own.get(0).score()).isCloseTo(dot, org.assertj.core.api.Assertions.within(1e-5f));
      } finally {
        li.release();
      }
    }

    addE5Field(TestIndexes.write(root, "v2", 40, 1, "float32"), "0".repeat(64));
    TestIndexes.publish(root, "v2");
    try (IndexHolder h = new IndexHolder(new LocalIndexSource(root), new ModelEncoders(null, 1), null, true)) {
      assertThat(h.refresh()).isFalse();
      assertThat(h.status().reason()).contains("dense field " + E5).contains("refusing to mix models");
    }
  }
}
