package io.quarry.core.segment;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.quant.DistanceMetric;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Format compatibility: {@code src/test/resources/golden/segment-v1/} holds version-1 files written by this code on
 * the day the format was fixed. Today's readers must read them value for value, and today's writers must reproduce
 * them byte for byte (a writer change that alters bytes must bump the codec version and keep the old reader).
 * Regenerate deliberately with {@code -Dquarry.golden.regenerate=true}.
 */
class GoldenSegmentTest {
  static final Path GOLDEN = Path.of("src/test/resources/golden/segment-v1");
  static final int N = 7;
  static final int DIM = 4;
  static final int NLIST = 3;
  static final int CODE = 2;

  @TempDir Path tmp;

  static List<ChunkTableFile.Row> rows() {
    List<ChunkTableFile.Row> rows = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      rows.add(new ChunkTableFile.Row("doc" + (i / 2) + "#" + (i % 2), "doc" + (i / 2), i % 2, 100 * (i % 2),
          100 * (i % 2) + 90 + i));
    }
    return rows;
  }

  static float[] vectors() {
    float[] v = new float[N * DIM];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) Math.sin(i * 0.7) * (1 + i % 3);
    }
    return v;
  }

  static void writeAll(Path dir) throws Exception {
    Files.createDirectories(dir);
    int[] list = new int[N];
    int[] ids = new int[N];
    byte[] codes = new byte[N * CODE];
    for (int i = 0; i < N; i++) {
      list[i] = (i * 2) % NLIST;
      ids[i] = i;
      codes[i * CODE] = (byte) (i * 37);
      codes[i * CODE + 1] = (byte) (255 - i);
    }
    IvfListsFile.write(dir.resolve("lists.ivf"), 1, NLIST, CODE, list, ids, codes);
    ChunkTableFile.write(dir.resolve("chunks.tbl"), 1, rows());
    RescoreVectorsFile.write(dir.resolve("vectors-float32.bin"), 1, RescoreVectorsFile.Encoding.FLOAT32, DIM,
        vectors());
    RescoreVectorsFile.write(dir.resolve("vectors-sq8.bin"), 1, RescoreVectorsFile.Encoding.SQ8, DIM, vectors());
  }

  @Test
  void todaysReadersReadTheGoldenFiles() throws Exception {
    if (Boolean.getBoolean("quarry.golden.regenerate")) {
      writeAll(GOLDEN);
    }
    IvfListsFile lists = IvfListsFile.open(GOLDEN.resolve("lists.ivf"), 1, true);
    assertThat(lists.nlist()).isEqualTo(NLIST);
    assertThat(lists.entries()).isEqualTo(N);
    // list l holds the i with 2i mod 3 == l, ascending
    assertThat(lists.size(0)).isEqualTo(3); // 0, 3, 6
    assertThat(lists.ids(0).get(2)).isEqualTo(6);
    assertThat(lists.codes(0).get(4) & 0xff).isEqualTo((6 * 37) & 0xff);
    assertThat(lists.ids(2).get(0)).isEqualTo(1);
    assertThat(lists.codes(2).get(1) & 0xff).isEqualTo(254);

    ChunkTableFile t = ChunkTableFile.open(GOLDEN.resolve("chunks.tbl"), 1, true);
    assertThat(t.size()).isEqualTo(N);
    assertThat(t.row(5)).isEqualTo(new ChunkTableFile.Row("doc2#1", "doc2", 1, 100, 195));

    RescoreVectorsFile f = RescoreVectorsFile.open(GOLDEN.resolve("vectors-float32.bin"), 1, true);
    RescoreVectorsFile q = RescoreVectorsFile.open(GOLDEN.resolve("vectors-sq8.bin"), 1, true);
    float[] v = vectors();
    float[] out = new float[DIM];
    for (int i = 0; i < N; i++) {
      f.get(i, out);
      for (int j = 0; j < DIM; j++) {
        assertThat(out[j]).isEqualTo(v[i * DIM + j]);
      }
      q.get(i, out);
      for (int j = 0; j < DIM; j++) {
        assertThat(Math.abs(out[j] - v[i * DIM + j])).isLessThanOrEqualTo(6f / 255 / 2 + 1e-6f);
      }
    }
    float[] query = {1, 0, 0, 0};
    assertThat(f.score(DistanceMetric.IP, query, 2, out)).isEqualTo(v[2 * DIM]);
  }

  @Test
  void todaysWritersReproduceTheGoldenBytes() throws Exception {
    writeAll(tmp);
    for (String name : List.of("lists.ivf", "chunks.tbl", "vectors-float32.bin", "vectors-sq8.bin")) {
      assertThat(Files.readAllBytes(tmp.resolve(name))).as(name)
          .isEqualTo(Files.readAllBytes(GOLDEN.resolve(name)));
    }
  }

  @Test
  void todaysReadersReadTheGoldenManifest() throws Exception {
    IndexManifest m = IndexManifest.parse(Files.readAllBytes(GOLDEN.resolve("manifest.json")), "manifest.json");
    assertThat(m.version()).isEqualTo("v-0123456789ab");
    assertThat(m.shards()).hasSize(1);
    assertThat(m.shards().get(0).files().get(0)).isEqualTo(
        new IndexManifest.FileEntry("shard-00000/lists.ivf", 136, "ef56"));
    assertThat(m.bm25().k1()).isEqualTo(0.9);
    assertThat(m.model().modelId()).isEqualTo("bge-small-en-v1.5-q");
    assertThat(m.config().path("segments").path("shards").asInt()).isEqualTo(1);
    assertThat(m.allFiles()).extracting(IndexManifest.FileEntry::path)
        .containsExactly("quantizer.bin", "shard-00000/lists.ivf");
    // round trip
    assertThat(IndexManifest.parse(m.toJson(), "rt")).isEqualTo(m);
    // format 2 is a version with tombstones (issue 15); 3 does not exist yet
    String future = Files.readString(GOLDEN.resolve("manifest.json")).replace("\"formatVersion\" : 1",
        "\"formatVersion\" : 3");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> IndexManifest.parse(future, "m2.json"))
        .isInstanceOf(CorruptIndexFileException.class).hasMessageContaining("m2.json")
        .hasMessageContaining("unsupported formatVersion 3");
  }
}
