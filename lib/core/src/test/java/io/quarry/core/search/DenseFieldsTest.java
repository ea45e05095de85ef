package io.quarry.core.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.TuningConfig;
import io.quarry.core.eval.FusionTuner;
import io.quarry.core.eval.Qrels;
import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.train.QuantizerTrainer;
import io.quarry.core.segment.Checksums;
import io.quarry.core.segment.CorruptIndexFileException;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import io.quarry.core.segment.RescoreVectorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extra dense fields (issue 26, {@code embedding.extraModels}): a version with a second model's vectors per shard
 * opens verified, the hybrid fuses BM25, the primary and the second dense signal (a query only the second model
 * answers is ranked first only with it), its own stage searches it alone, the tuner fuses the N signals, and a field
 * whose file disagrees with the manifest is refused.
 */
class DenseFieldsTest {
  static final int N = DenseSearcherTest.N;
  static final int D = DenseSearcherTest.D;
  static final int D2 = 32;
  static final String FIELD = "second-model";
  static final String SIGNAL = "dense@" + FIELD;

  @TempDir Path tmp;
  float[] x;
  float[] x2;
  IndexVersion base;
  Path dir;

  /** The second model's vectors: unit vectors of another dimension, unrelated to the first model's. */
  static float[] second(long seed) {
    java.util.Random r = new java.util.Random(seed);
    float[] y = new float[N * D2];
    for (int i = 0; i < N; i++) {
      double norm = 0;
      for (int j = 0; j < D2; j++) {
        y[i * D2 + j] = (float) r.nextGaussian();
        norm += y[i * D2 + j] * y[i * D2 + j];
      }
      for (int j = 0; j < D2; j++) {
        y[i * D2 + j] /= (float) Math.sqrt(norm);
      }
    }
    return y;
  }

  @BeforeEach
  void build() throws Exception {
    x = DenseSearcherTest.data(5);
    x2 = second(6);
    QuantizerModel q = QuantizerTrainer.train(x, N, D, IndexSpec.parse("IVF8,PQ4x8"), DistanceMetric.IP,
        QuantizerTrainer.Params.defaults(5));
    dir = tmp.resolve("v");
    base = DenseSearcherTest.write(dir, q, x, 3, "hash", "float32");
    addField(dir, base, "float32");
  }

  /** Writes the second model's vectors into every shard in shard-local order and records the field. */
  static void addField(Path dir, IndexVersion v, String encoding) throws IOException {
    float[] y = second(6);
    IndexManifest m = v.manifest();
    String rel = IndexManifest.DenseField.pathOf(FIELD);
    List<IndexManifest.Shard> shards = new ArrayList<>();
    for (IndexManifest.Shard s : m.shards()) {
      IndexVersion.Shard vs = v.shards().get(s.id());
      float[] rows = new float[vs.table().size() * D2];
      for (int id = 0; id < vs.table().size(); id++) {
        int i = Integer.parseInt(vs.table().chunkId(id).substring(1));
        System.arraycopy(y, i * D2, rows, id * D2, D2);
      }
      Path f = dir.resolve(s.dir()).resolve(rel);
      Files.createDirectories(f.getParent());
      RescoreVectorsFile.write(f, s.id(), RescoreVectorsFile.Encoding.parse(encoding), D2, rows);
      List<IndexManifest.FileEntry> files = new ArrayList<>(s.files());
      files.add(new IndexManifest.FileEntry(s.dir() + "/" + rel, Files.size(f), Checksums.sha256(f)));
      shards.add(new IndexManifest.Shard(s.id(), s.dir(), s.chunks(), s.docs(), s.listFrom(), s.listTo(), files));
    }
    IndexManifest withField = m.withDenseFields(List.of(new IndexManifest.DenseField(FIELD,
        new IndexManifest.Model(FIELD, "sha-2", D2), rel, encoding)), shards);
    Files.write(dir.resolve(IndexManifest.FILE_NAME), withField.toJson());
  }

  /** BM25 that knows nothing: every chunk scores 0 (so only the dense signals decide). */
  static final LexicalSearcher NO_BM25 = new LexicalSearcher() {
    @Override
    public List<ScoredChunk> search(String query, int n) {
      return List.of();
    }

    @Override
    public float[] score(String query, List<ScoredChunk> chunks) {
      return new float[chunks.size()];
    }

    @Override
    public String text(int shard, int id) {
      return "t";
    }

    @Override
    public void close() {}
  };

  float[] row(float[] a, int dim, int i) {
    return Arrays.copyOfRange(a, i * dim, (i + 1) * dim);
  }

  /**
   * Query "c0042": the first model knows nothing (a zero query: every chunk scores 0), the second model embeds it as
   * chunk 42's own vector.
   */
  HybridSearcher searcher(IndexVersion v, boolean withField) {
    HybridSearcher.QueryEncoder first = s -> new float[D];
    HybridSearcher.QueryEncoder second = s -> row(x2, D2, Integer.parseInt(s.substring(1)));
    return new HybridSearcher(v, first, NO_BM25, null, withField ? Map.of(FIELD, second) : Map.of());
  }

  static SearchOptions hybrid(String fusion) {
    return SearchOptions.builder().k(10).mode(SearchOptions.Mode.HYBRID).nprobe(8).depth(50).withText(false)
        .fusion(FusionSpec.parse(fusion)).build();
  }

  @Test
  void manifestRecordsTheFieldAndVersionOpensVerified() throws Exception {
    IndexVersion v = IndexVersion.open(dir, true);
    assertThat(v.denseFields()).extracting(IndexManifest.DenseField::name).containsExactly(FIELD);
    assertThat(v.denseFields().get(0).model().dim()).isEqualTo(D2);
    assertThat(v.fieldVectors(FIELD)).hasSize(3);
    assertThat(v.manifest().allFiles()).anyMatch(f -> f.path().endsWith(SIGNAL + "/vectors.bin"));
    assertThat(new String(v.manifest().toJson())).contains("\"denseFields\"");
    // without fields the manifest has no denseFields key: versions built without extraModels are unchanged
    assertThat(new String(base.manifest().toJson())).doesNotContain("denseFields");
    assertThatThrownBy(() -> v.fieldVectors("nope")).hasMessageContaining("no dense field nope");
  }

  @Test
  void hybridFusesTheSecondModelAQueryOnlyItAnswers() throws Exception {
    IndexVersion v = IndexVersion.open(dir, true);
    HybridSearcher with = searcher(v, true);
    HybridSearcher without = searcher(v, false);
    assertThat(with.fieldSignals()).containsExactly(SIGNAL);
    for (String q : List.of("c0042", "c0311", "c0599")) {
      HybridSearcher.Result r = with.search(new HybridSearcher.Request(q, hybrid("convex:zscore,alpha=1.0")));
      assertThat(r.hits().get(0).chunkId()).as(q).isEqualTo(q);
      assertThat(r.hits().get(0).stages()).containsKeys(HybridSearcher.BM25, HybridSearcher.RESCORE, SIGNAL,
          HybridSearcher.HYBRID);
      assertThat(r.hits().get(0).stageScore(SIGNAL)).isCloseTo(1f, org.assertj.core.api.Assertions.within(1e-5f));
      HybridSearcher.Result one = without.search(new HybridSearcher.Request(q, hybrid("convex:zscore,alpha=1.0")));
      assertThat(one.hits().get(0).chunkId()).as(q).isNotEqualTo(q);
      assertThat(one.hits().get(0).stages()).doesNotContainKey(SIGNAL);
    }
    // every candidate has the field's exact score, also those only BM25 or the primary retrieved
    Candidates c = with.candidates("c0042", hybrid("rrf:k=60"));
    assertThat(c.sources()).extracting(Candidates.Source::name).containsExactly(HybridSearcher.DENSE,
        HybridSearcher.BM25, SIGNAL);
    for (int i = 0; i < c.size(); i++) {
      assertThat(c.score(SIGNAL, i)).isNotNaN();
    }
    // the field's own stage: exact search with the second model alone
    List<ScoredChunk> own = with.searchField(SIGNAL, "c0311", 5);
    assertThat(v.shards().get(own.get(0).shard()).table().chunkId(own.get(0).id())).isEqualTo("c0311");
  }

  @Test
  void tunerFusesEverySignalOnTrainingQrels() throws Exception {
    IndexVersion v = IndexVersion.open(dir, true);
    TuningConfig t = ConfigLoader.load(List.of(), List.of("tuning.strategies=[rrf, convex]",
        "tuning.normalizations=[zscore]", "tuning.levels=[chunk]", "tuning.alphas=[0.0, 0.5, 1.0]",
        "tuning.rrfKs=[60]", "tuning.depths=[50]", "tuning.nprobes=[8]", "tuning.latencyQueries=2")).tuning();
    Map<String, Map<String, Integer>> j = new HashMap<>();
    List<FusionTuner.Query> queries = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String c = String.format("c%04d", i * 17);
      j.put("q" + i, Map.of("d" + (i * 17 / 3), 1));
      queries.add(new FusionTuner.Query("q" + i, c));
    }
    FusionTuner.Result with = new FusionTuner(searcher(v, true), Qrels.of(j), t).tune(queries, "train");
    FusionTuner.Result without = new FusionTuner(searcher(v, false), Qrels.of(j), t).tune(queries, "train");
    // only the second model finds these documents: the dense weight goes up and the objective with it
    assertThat(with.chosen().fusion()).contains("alpha=1.0");
    assertThat(with.chosen().value()).isGreaterThan(0.9).isGreaterThan(without.chosen().value() + 0.5);
  }

  @Test
  void aFieldFileThatDisagreesWithTheManifestIsRefused() throws Exception {
    IndexManifest m = IndexVersion.readManifest(dir);
    IndexManifest.DenseField f = m.denseFields().get(0);
    IndexManifest wrongDim = m.withDenseFields(List.of(new IndexManifest.DenseField(FIELD,
        new IndexManifest.Model(FIELD, "sha-2", D2 + 1), f.path(), f.encoding())), m.shards());
    Files.write(dir.resolve(IndexManifest.FILE_NAME), wrongDim.toJson());
    assertThatThrownBy(() -> IndexVersion.open(dir, false)).isInstanceOf(CorruptIndexFileException.class)
        .hasMessageContaining("dense field " + FIELD);
    // a field named like the primary model, or listed twice, is refused when the manifest is parsed
    IndexManifest twice = m.withDenseFields(List.of(f, f), m.shards());
    assertThatThrownBy(() -> IndexManifest.parse(twice.toJson(), "manifest.json"))
        .isInstanceOf(CorruptIndexFileException.class).hasMessageContaining("dense field");
    // a tampered field file fails verification by its SHA-256
    Files.write(dir.resolve(IndexManifest.FILE_NAME), m.toJson());
    Path vf = dir.resolve(m.shards().get(1).dir()).resolve(f.path());
    byte[] b = Files.readAllBytes(vf);
    b[b.length / 2] ^= 1;
    Files.write(vf, b);
    assertThatThrownBy(() -> IndexVersion.open(dir, true)).hasMessageContaining(f.path());
  }
}
