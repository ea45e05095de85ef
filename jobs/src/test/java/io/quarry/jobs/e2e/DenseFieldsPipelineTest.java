package io.quarry.jobs.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.config.EmbeddingConfig;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.search.SearchOptions;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import io.quarry.embed.Embedder;
import io.quarry.embed.FieldEncoders;
import io.quarry.jobs.QuarryCli;
import io.quarry.jobs.SparkTest;
import io.quarry.jobs.SparkTestSupport;
import io.quarry.lexical.Bm25Index;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code embedding.extraModels} end to end (issue 26): {@code quarry pipeline} on a slice of data-samples/ with
 * bge-small-en-v1.5-q plus e5-small-v2-q embeds the same chunks with both, builds a version with an e5 dense field
 * recorded in the manifest (model id, SHA-256, dimension, one checksummed vectors file per shard), tunes the hybrid
 * over the three signals on the training qrels, and evaluates the e5 field's own stage and the three-signal hybrid;
 * the version then searches (as serving opens it) with both models.
 */
@SparkTest
class DenseFieldsPipelineTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path SAMPLES = ROOT.resolve("data-samples/scifact");
  private static final String E5 = "e5-small-v2-q";

  @TempDir Path tmp;

  /** The CLI opens its Spark session from the config (and stops it): not the tests' shared one. */
  @BeforeAll
  static void noSharedSpark() {
    SparkTestSupport.stopShared();
  }

  /** Judged documents of the first {@code n} queries of a qrels file (written, restricted, to {@code out}). */
  private static Set<String> judged(Path qrels, int n, Path out) throws Exception {
    List<String> lines = Files.readAllLines(qrels);
    Set<String> queries = new LinkedHashSet<>();
    Set<String> docs = new LinkedHashSet<>();
    StringBuilder kept = new StringBuilder(lines.get(0)).append('\n');
    for (String l : lines.subList(1, lines.size())) {
      String[] f = l.split("\t");
      if (queries.size() < n || queries.contains(f[0])) {
        queries.add(f[0]);
        docs.add(f[1]);
        kept.append(l).append('\n');
      }
    }
    Files.writeString(out, kept);
    return docs;
  }

  @Test
  void pipelineBuildsTunesAndEvaluatesBm25PlusTwoModels() throws Exception {
    Path in = tmp.resolve("in");
    Files.createDirectories(in);
    Set<String> docs = judged(SAMPLES.resolve("qrels/test.tsv"), 8, in.resolve("test.tsv"));
    docs.addAll(judged(SAMPLES.resolve("qrels/train.tsv"), 12, in.resolve("train.tsv")));
    List<String> corpus = new ArrayList<>();
    int distractors = 0;
    for (String line : Files.readAllLines(SAMPLES.resolve("corpus.jsonl"), StandardCharsets.UTF_8)) {
      if (docs.contains(JSON.readTree(line).get("_id").asText()) || distractors++ < 30) {
        corpus.add(line);
      }
    }
    Files.write(in.resolve("corpus.jsonl"), corpus);
    Path work = tmp.resolve("work");
    List<String> args = new ArrayList<>(List.of("pipeline", "--config", ROOT.resolve("conf/quarry.yaml").toString()));
    for (String s : List.of("paths.work=" + work, "input.corpus=" + in.resolve("corpus.jsonl"),
        "evaluation.queries=" + SAMPLES.resolve("queries.jsonl"), "evaluation.qrels=" + in.resolve("test.tsv"),
        "tuning.qrels=" + in.resolve("train.tsv"), "tuning.strategies=[rrf, convex]",
        "tuning.normalizations=[zscore]", "tuning.levels=[chunk]", "tuning.alphas=[0.3, 0.7, 1.0]",
        "tuning.rrfKs=[60]", "tuning.depths=[50]", "tuning.nprobes=[4]", "tuning.latencyQueries=3",
        "evaluation.sweepNprobe=[]", "evaluation.sweepCandidates=[]", "evaluation.nprobe=4",
        "evaluation.permutations=200", "quantizer.spec=IVF4,PQ16x4", "segments.shards=2", "spark.master=local[2]",
        "embedding.extraModels=[" + E5 + "]")) {
      args.addAll(List.of("--set", s));
    }
    assertThat(QuarryCli.run(args.toArray(String[]::new))).isZero();

    // the same chunks embedded with e5, beside the primary embeddings
    Path e5Emb = Path.of(EmbeddingConfig.extraEmbeddingsDir(work.resolve("embeddings").toString(), E5));
    JsonNode e5Model = JSON.readTree(e5Emb.resolve("_model.json").toFile());
    assertThat(e5Model.get("modelId").asText()).isEqualTo(E5);
    assertThat(e5Model.get("passagePrefix").asText()).isEqualTo("passage: ");

    // the published version: an e5 dense field with its model, one checksummed vectors file per shard
    Path index = work.resolve("index");
    String version = Files.readString(index.resolve("CURRENT")).strip();
    IndexVersion v = IndexVersion.open(index.resolve(version), true);
    IndexManifest m = v.manifest();
    assertThat(m.model().modelId()).isEqualTo("bge-small-en-v1.5-q");
    assertThat(m.denseFields()).hasSize(1);
    IndexManifest.DenseField f = m.denseFields().get(0);
    assertThat(f.name()).isEqualTo(E5);
    assertThat(f.model().sha256()).isEqualTo(e5Model.get("sha256").asText());
    assertThat(f.model().dim()).isEqualTo(384);
    for (IndexManifest.Shard s : m.shards()) {
      assertThat(s.files()).anyMatch(x -> x.path().equals(s.dir() + "/dense@" + E5 + "/vectors.bin"));
      assertThat(v.fieldVectors(E5).get(s.id()).size()).isEqualTo((int) s.chunks());
    }
    // tuned on the training qrels over the three signals
    assertThat(m.search()).isNotNull();
    assertThat(m.search().tunedOn()).contains("train.tsv");

    // the evaluation: e5's own stage and the hybrid of BM25 + bge + e5
    Path evalDir = work.resolve("eval");
    Path metrics;
    try (Stream<Path> s = Files.walk(evalDir)) {
      metrics = s.filter(p -> p.getFileName().toString().equals("metrics.json")).findFirst().orElseThrow();
    }
    JsonNode report = JSON.readTree(metrics.toFile());
    List<String> stages = new ArrayList<>();
    report.get("stages").forEach(st -> stages.add(st.get("name").asText()));
    assertThat(stages).contains("bm25", "dense@" + E5, "hybrid");
    assertThat(stages.indexOf("dense@" + E5)).isLessThan(stages.indexOf("hybrid"));
    assertThat(report.get("finalStage").asText()).isEqualTo("hybrid");

    // searching the version as serving opens it: every hybrid hit carries both models' scores
    try (FieldEncoders fe = FieldEncoders.open(m, 512, 1, false);
        Bm25Index bm25 = Bm25Index.open(index.resolve(version), m)) {
      Embedder bge = Embedder.open(new EmbeddingConfig("bge-small-en-v1.5-q", "", 8, 512, 1));
      HybridSearcher hs = new HybridSearcher(v, q -> bge.embedQueries(List.of(q))[0], bm25, null, fe.encoders());
      HybridSearcher.Result r = hs.search(new HybridSearcher.Request("vitamin D deficiency",
          SearchOptions.builder().k(5).build()));
      assertThat(r.hits()).isNotEmpty();
      for (HybridSearcher.Hit h : r.hits()) {
        assertThat(h.stages()).containsKeys("bm25", "rescore", "dense@" + E5, "hybrid");
      }
    }
  }
}
