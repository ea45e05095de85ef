package io.quarry.core.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.eval.Comparison;
import io.quarry.core.eval.EvalReport;
import io.quarry.core.segment.IndexManifest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Where the embeddings' processor kind and ONNX Runtime version are recorded (index manifest, metrics.json), that
 * files of older versions without them still read, and {@link Comparison#platformWarnings}.
 */
class PlatformRecordsTest {
  static final Platform VNNI = new Platform("amd64", List.of("avx512_vnni", "avx2", "avx512f"), "1.28.0");
  static final Platform AVX2 = new Platform("amd64", List.of("avx2", "fma"), "1.28.0");
  static final Platform NEWER_ORT = new Platform("amd64", List.of("avx2", "avx512f", "avx512_vnni"), "1.29.0");

  @Test
  void describesSortedInstructionSetsAndDropsDuplicates() {
    assertThat(VNNI.isa()).containsExactly("avx2", "avx512_vnni", "avx512f");
    assertThat(VNNI.describe()).isEqualTo("amd64 [avx2 avx512_vnni avx512f], onnxruntime 1.28.0");
    Platform same = new Platform("amd64", List.of("avx512f", "avx2", "avx512_vnni", "avx2"), "1.28.0");
    assertThat(same).isEqualTo(VNNI);
    // by describe()
    assertThat(Platform.distinct(java.util.Arrays.asList(VNNI, null, AVX2, same))).containsExactly(VNNI, AVX2);
    assertThat(Platform.describe(List.of())).isEqualTo("unknown");
  }

  @Test
  void manifestRecordsPlatformsAndReadsManifestsWithout() throws Exception {
    byte[] golden = Files.readAllBytes(Path.of("src/test/resources/golden/segment-v1/manifest.json"));
    IndexManifest old = IndexManifest.parse(golden, "manifest.json");
    assertThat(old.model().platforms()).isNull();
    // a model without platforms writes no platforms key: older manifests stay byte-identical
    assertThat(new String(old.toJson(), StandardCharsets.UTF_8)).doesNotContain("platforms");
    IndexManifest.Model m = old.model();
    IndexManifest withPlatforms = new IndexManifest(old.formatVersion(), old.version(), old.indexSpec(), old.metric(),
        old.dim(), old.nlist(), old.codeSize(), old.sharding(), old.rescore(),
        new IndexManifest.Model(m.modelId(), m.sha256(), m.dim(), List.of(AVX2, VNNI)), old.bm25(), old.quantizer(),
        old.shards(), old.chunks(), old.docs(), old.configHash(), old.config(), old.createdBy(), null);
    String json = new String(withPlatforms.toJson(), StandardCharsets.UTF_8);
    assertThat(json).contains("\"platforms\"").contains("avx512_vnni").contains("\"onnxRuntime\" : \"1.28.0\"");
    IndexManifest back = IndexManifest.parse(json, "m.json");
    assertThat(back).isEqualTo(withPlatforms);
    assertThat(back.model().platforms()).containsExactly(AVX2, VNNI); // as written
  }

  static EvalReport report(List<Platform> passages, Platform queries) {
    EvalReport r = new EvalReport(EvalReport.SCHEMA_VERSION, "r", "h", "m", "v", "IVF4,PQ8x8",
        new EvalReport.Dataset("beir", "q", "x", "r", "y", 1, 1), Map.of(),
        List.of(new EvalReport.StageResult("rescore", "", "runs/rescore.trec", 1, 0, Map.of("nDCG@10", 0.5), null,
            null, null, Map.of("q1", Map.of("nDCG@10", 0.5)))), "rescore", List.of(), null, List.of());
    return passages == null && queries == null ? r : r.withPlatforms(passages, queries);
  }

  @Test
  void metricsJsonRecordsPlatformsAndReadsFilesWithout() {
    EvalReport old = report(null, null);
    assertThat(old.toJson()).doesNotContain("Platform");
    EvalReport parsedOld = EvalReport.fromJson("old.json", old.toJson());
    assertThat(parsedOld.passagePlatforms()).isNull();
    assertThat(parsedOld.queryPlatform()).isNull();
    EvalReport now = report(List.of(VNNI), AVX2);
    EvalReport parsed = EvalReport.fromJson("metrics.json", now.toJson());
    assertThat(parsed.passagePlatforms()).containsExactly(VNNI);
    assertThat(parsed.queryPlatform()).isEqualTo(AVX2);
  }

  @Test
  void compareWarnsWhenProcessorKindOrRuntimeDiffer() {
    assertThat(Comparison.platformWarnings(report(List.of(VNNI), VNNI), report(List.of(VNNI), VNNI))).isEmpty();
    // two old files: nothing to compare, no warning
    assertThat(Comparison.platformWarnings(report(null, null), report(null, null))).isEmpty();

    List<String> chunks = Comparison.platformWarnings(report(List.of(VNNI), VNNI), report(List.of(AVX2), VNNI));
    assertThat(chunks).singleElement().asString().contains("chunks embedded on a different platform")
        .contains("baseline amd64 [avx2 avx512_vnni avx512f]").contains("current amd64 [avx2 fma]")
        .contains("hardware");

    List<String> both = Comparison.platformWarnings(report(List.of(VNNI), VNNI),
        report(List.of(NEWER_ORT), NEWER_ORT));
    assertThat(both).hasSize(2);
    assertThat(both.get(0)).contains("onnxruntime 1.29.0");
    assertThat(both.get(1)).startsWith("queries embedded on a different platform");

    // one executor of another kind among the current run's executors
    assertThat(Comparison.platformWarnings(report(List.of(VNNI), VNNI), report(List.of(VNNI, AVX2), VNNI)))
        .hasSize(1);

    assertThat(Comparison.platformWarnings(report(null, null), report(List.of(AVX2), AVX2))).singleElement()
        .asString().contains("does not record");
  }
}
