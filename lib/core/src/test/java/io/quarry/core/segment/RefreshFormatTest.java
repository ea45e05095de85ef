package io.quarry.core.segment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.SegmentsConfig;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 15: document digests ({@code docs.tsv}), tombstones in the manifest, and the refresh decision. */
class RefreshFormatTest {
  @TempDir Path tmp;

  static ShardEntry entry(String chunk, String doc, int ordinal, String text) {
    return new ShardEntry(chunk, doc, ordinal, ordinal * 10, ordinal * 10 + text.length(), "T", text, 0,
        new byte[1], new float[] {1f});
  }

  @Test
  void digestsDependOnContentNotOrderAndRoundTrip() throws Exception {
    List<ShardEntry> a = List.of(entry("d1#0", "d1", 0, "alpha"), entry("d1#1", "d1", 1, "beta"),
        entry("d2#0", "d2", 0, "gamma"));
    List<ShardEntry> reordered = List.of(a.get(2), a.get(1), a.get(0));
    assertThat(DocumentDigests.ofEntries(a)).isEqualTo(DocumentDigests.ofEntries(reordered));
    Map<String, DocumentDigests.Doc> edited = DocumentDigests.ofEntries(List.of(a.get(0),
        entry("d1#1", "d1", 1, "beta!"), a.get(2)));
    assertThat(edited.get("d1").digest()).isNotEqualTo(DocumentDigests.ofEntries(a).get("d1").digest());
    assertThat(edited.get("d2")).isEqualTo(DocumentDigests.ofEntries(a).get("d2"));
    assertThat(edited.get("d1").chunks()).isEqualTo(2);

    DocumentDigests.write(tmp, a);
    String text = Files.readString(tmp.resolve(DocumentDigests.FILE_NAME));
    assertThat(text.lines()).hasSize(2).allMatch(l -> l.split("\t").length == 3);
    assertThat(DocumentDigests.read(Files.newInputStream(tmp.resolve(DocumentDigests.FILE_NAME)), "docs.tsv"))
        .isEqualTo(DocumentDigests.ofEntries(a));
    assertThatThrownBy(() -> DocumentDigests.read(new ByteArrayInputStream("d1\tabc\n".getBytes(
        StandardCharsets.UTF_8)), "x/docs.tsv")).isInstanceOf(CorruptIndexFileException.class)
        .hasMessageContaining("x/docs.tsv").hasMessageContaining("line 1");
  }

  static String manifest(int format, String deleted) {
    return "{\"formatVersion\": " + format + ", \"version\": \"v\", \"metric\": \"ip\", \"model\": {\"modelId\": "
        + "\"m\", \"sha256\": \"s\", \"dim\": 4}, \"quantizer\": {\"path\": \"quantizer.bin\", \"bytes\": 1, "
        + "\"sha256\": \"q\"}, \"shards\": [{\"id\": 0, \"dir\": \"shard-00000\", \"chunks\": 3, \"docs\": 2, "
        + "\"listFrom\": 0, \"listTo\": 4, \"files\": []" + (deleted == null ? "" : ", \"deletedDocs\": " + deleted)
        + "}]}";
  }

  @Test
  void tombstonesNeedFormatVersionTwoAndOlderManifestsStillParse() throws Exception {
    assertThat(IndexManifest.parse(manifest(1, null), "m").shards().get(0).tombstones()).isEmpty();
    assertThat(IndexManifest.parse(manifest(2, "[\"d1\"]"), "m").shards().get(0).tombstones())
        .containsExactly("d1");
    assertThatThrownBy(() -> IndexManifest.parse(manifest(1, "[\"d1\"]"), "m"))
        .isInstanceOf(CorruptIndexFileException.class).hasMessageContaining("tombstones");
    assertThatThrownBy(() -> IndexManifest.parse(manifest(3, null), "m"))
        .isInstanceOf(CorruptIndexFileException.class).hasMessageContaining("unsupported formatVersion 3");
    // a shard without tombstones writes no deletedDocs field: full builds keep their manifest bytes
    IndexManifest m = IndexManifest.parse(manifest(1, null), "m");
    assertThat(new String(m.toJson(), StandardCharsets.UTF_8)).doesNotContain("deletedDocs")
        .doesNotContain("refresh").doesNotContain("tombstones");
  }

  static IndexManifest.Refresh measured(Double mseRatio, double changedShare, double tombShare) {
    return new IndexManifest.Refresh("b", 2, 0, 90, 5, 3, 2, changedShare, 8, 0.1, 0.05, mseRatio, 1.2, 4,
        tombShare, null, List.of());
  }

  static SegmentsConfig segments(String... sets) {
    return ConfigLoader.load(List.of(), List.of(sets)).segments();
  }

  @Test
  void driftTakesTheRetrainPathBeforeCompaction() {
    SegmentsConfig cfg = segments("segments.incremental=true");
    assertThat(RefreshDecision.decide(cfg, measured(1.2, 0.1, 0.05)).path())
        .isEqualTo(RefreshDecision.Path.INCREMENTAL);
    RefreshDecision d = RefreshDecision.decide(cfg, measured(2.0, 0.6, 0.5));
    assertThat(d.path()).isEqualTo(RefreshDecision.Path.RETRAIN);
    assertThat(d.reasons()).hasSize(2).anyMatch(r -> r.contains("segments.driftMaxMseRatio"))
        .anyMatch(r -> r.contains("segments.driftMaxChangedShare"));
    assertThat(RefreshDecision.decide(cfg, measured(null, 0.1, 0.25)).path())
        .isEqualTo(RefreshDecision.Path.COMPACT);
    assertThat(RefreshDecision.decide(segments("segments.incremental=true", "segments.compact=true"),
        measured(1.0, 0.0, 0.0)).path()).isEqualTo(RefreshDecision.Path.COMPACT);
    // thresholds off
    assertThat(RefreshDecision.decide(segments("segments.incremental=true", "segments.driftMaxMseRatio=0",
        "segments.driftMaxChangedShare=1"), measured(9.0, 1.0, 0.0)).path())
        .isEqualTo(RefreshDecision.Path.INCREMENTAL);
  }

  @Test
  void measureGivesTheDriftAndTombstoneShares() throws Exception {
    String json = manifest(2, null).replace("\"formatVersion\": 2,", "\"formatVersion\": 2, \"chunks\": 3, "
        + "\"docs\": 2,");
    IndexManifest base = IndexManifest.parse(json, "m");
    assertThat(base.docs()).isEqualTo(2);
    IndexManifest.Refresh r = RefreshDecision.measure(new RefreshDecision.Changes("b", base, 1, 1, 0, 2, 4, 0.2,
        1.5, Map.of("pq.mse.heldout", 0.1, "pq.mse", 0.05)));
    assertThat(r.unchangedDocs()).isEqualTo(1);
    assertThat(r.changedShare()).isEqualTo(1.0); // (1 + 1 + 0) / 2
    assertThat(r.trainingMse()).isEqualTo(0.1); // the held-out estimate wins over the in-sample pq.mse
    assertThat(r.mseRatio()).isCloseTo(2.0, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(r.tombstonedChunks()).isEqualTo(2);
    assertThat(r.tombstoneShare()).isCloseTo(2 / 7.0, org.assertj.core.data.Offset.offset(1e-12)); // 2 / (3 + 4)
    assertThat(r.keptShards()).isEqualTo(1);
    assertThat(r.path()).isNull();
    IndexManifest.Refresh old = RefreshDecision.measure(new RefreshDecision.Changes("b", base, 0, 0, 1, 1, 0, null,
        null, Map.of("pq.mse", 0.05)));
    assertThat(old.trainingMse()).isEqualTo(0.05);
    assertThat(old.mseRatio()).isNull(); // no new vectors
    assertThat(old.changedShare()).isEqualTo(0.5);
  }

  @Test
  void badRefreshSettingsAreAllReported() {
    assertThatThrownBy(() -> segments("segments.compact=true", "segments.compactTombstoneShare=2",
        "segments.driftMaxMseRatio=-1", "segments.base=../x"))
        .hasMessageContaining("segments.compact").hasMessageContaining("segments.compactTombstoneShare")
        .hasMessageContaining("segments.driftMaxMseRatio").hasMessageContaining("segments.base");
  }
}
