package io.quarry.core.segment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.quant.DistanceMetric;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentFilesTest {
  @TempDir Path tmp;

  @Test
  void listsRoundTripGroupsByListStably() throws Exception {
    Path f = tmp.resolve("lists.ivf");
    int[] list = {2, 0, 2, 1, 0};
    int[] ids = {0, 1, 2, 3, 4};
    byte[] codes = {10, 11, 20, 21, 30, 31, 40, 41, 50, 51};
    IvfListsFile.write(f, 3, 4, 2, list, ids, codes);
    IvfListsFile r = IvfListsFile.open(f, 3, true);
    assertThat(r.nlist()).isEqualTo(4);
    assertThat(r.codeSize()).isEqualTo(2);
    assertThat(r.entries()).isEqualTo(5);
    assertThat(r.size(0)).isEqualTo(2);
    assertThat(r.size(1)).isEqualTo(1);
    assertThat(r.size(2)).isEqualTo(2);
    assertThat(r.size(3)).isZero();
    assertThat(r.ids(0).get(0)).isEqualTo(1);
    assertThat(r.ids(0).get(1)).isEqualTo(4);
    assertThat(r.ids(2).get(1)).isEqualTo(2);
    ByteBuffer c = r.codes(2);
    assertThat(c.remaining()).isEqualTo(4);
    assertThat(new byte[] {c.get(0), c.get(1), c.get(2), c.get(3)}).containsExactly(10, 11, 30, 31);
    assertThat(Files.size(f) % 8).isZero();
  }

  @Test
  void sameInputGivesByteIdenticalFiles() throws Exception {
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");
    List<ChunkTableFile.Row> rows = List.of(new ChunkTableFile.Row("d1#0", "d1", 0, 0, 10),
        new ChunkTableFile.Row("d2#0", "d2", 0, 0, 7));
    ChunkTableFile.write(a, 0, rows);
    ChunkTableFile.write(b, 0, rows);
    assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
  }

  @Test
  void chunkTableRoundTripsUnicode() throws Exception {
    Path f = tmp.resolve("chunks.tbl");
    List<ChunkTableFile.Row> rows = List.of(new ChunkTableFile.Row("dé#0", "dé", 0, 0, 100),
        new ChunkTableFile.Row("x#3", "x", 3, 250, 512), new ChunkTableFile.Row("", "e", 1, 5, 6));
    ChunkTableFile.write(f, 1, rows);
    ChunkTableFile t = ChunkTableFile.open(f, 1, true);
    assertThat(t.size()).isEqualTo(3);
    for (int i = 0; i < 3; i++) {
      assertThat(t.row(i)).isEqualTo(rows.get(i));
    }
    assertThatThrownBy(() -> t.row(3)).isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void vectorsFloat32ExactAndSq8WithinHalfStep() throws Exception {
    Random rnd = new Random(7);
    int n = 50;
    int dim = 16;
    float[] v = new float[n * dim];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    RescoreVectorsFile.write(tmp.resolve("f"), 0, RescoreVectorsFile.Encoding.FLOAT32, dim, v);
    RescoreVectorsFile.write(tmp.resolve("q"), 0, RescoreVectorsFile.Encoding.SQ8, dim, v);
    RescoreVectorsFile f = RescoreVectorsFile.open(tmp.resolve("f"), 0, true);
    RescoreVectorsFile q = RescoreVectorsFile.open(tmp.resolve("q"), 0, true);
    float[] out = new float[dim];
    float maxErr = 0;
    for (int i = 0; i < n; i++) {
      f.get(i, out);
      for (int j = 0; j < dim; j++) {
        assertThat(out[j]).isEqualTo(v[i * dim + j]);
      }
      q.get(i, out);
      for (int j = 0; j < dim; j++) {
        maxErr = Math.max(maxErr, Math.abs(out[j] - v[i * dim + j]));
      }
    }
    // per-dim range of 50 gaussians is < 8, so step/2 < 8/255/2
    assertThat(maxErr).isGreaterThan(0f).isLessThan(8f / 255 / 2 + 1e-5f);
    float[] query = new float[dim];
    query[0] = 1;
    assertThat(f.score(DistanceMetric.IP, query, 3, out)).isEqualTo(v[3 * dim]);
    assertThat(f.score(DistanceMetric.L2, v.clone(), 0, out)).isEqualTo(-0f);
    assertThat(Files.size(tmp.resolve("q"))).isLessThan(Files.size(tmp.resolve("f")) / 3);
  }

  @Test
  void flippedByteIsReportedWithFileName() throws Exception {
    Path f = tmp.resolve("lists.ivf");
    IvfListsFile.write(f, 0, 2, 1, new int[] {0, 1}, new int[] {0, 1}, new byte[] {5, 6});
    long size = Files.size(f);
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.seek(size - 20);
      int b = raf.read();
      raf.seek(size - 20);
      raf.write(b ^ 0x40);
    }
    assertThatThrownBy(() -> IvfListsFile.open(f, 0, true))
        .isInstanceOf(CorruptIndexFileException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("checksum mismatch");
  }

  @Test
  void truncatedWrongCodecAndWrongShardAreRejected() throws Exception {
    Path f = tmp.resolve("chunks.tbl");
    ChunkTableFile.write(f, 2, List.of(new ChunkTableFile.Row("a", "b", 0, 0, 1)));
    assertThatThrownBy(() -> IvfListsFile.open(f, 2, true)).isInstanceOf(CorruptIndexFileException.class)
        .hasMessageContaining("codec 'quarry.chunks' (expected 'quarry.ivf')");
    assertThatThrownBy(() -> ChunkTableFile.open(f, 1, true)).hasMessageContaining("belongs to shard 2");
    byte[] all = Files.readAllBytes(f);
    Path t = tmp.resolve("trunc");
    Files.write(t, java.util.Arrays.copyOf(all, all.length - 9));
    assertThatThrownBy(() -> ChunkTableFile.open(t, 2, true)).isInstanceOf(CorruptIndexFileException.class)
        .hasMessageContaining(t.toString());
  }

  @Test
  void manifestPathsCannotEscape() {
    assertThatThrownBy(() -> Checksums.resolveInside(tmp, "../etc/passwd"))
        .isInstanceOf(CorruptIndexFileException.class);
    assertThatThrownBy(() -> Checksums.resolveInside(tmp, "/etc/passwd"))
        .isInstanceOf(CorruptIndexFileException.class);
  }
}
