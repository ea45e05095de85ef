package io.quarry.core.quant.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VecsFormatTest {
  @TempDir Path tmp;

  @Test
  void writesTheTexmexLayoutAndReadsItBack() throws Exception {
    Path f = tmp.resolve("x.fvecs");
    VecsFormat.writeFvecs(f, new float[] {1.5f, -2f, 0f, 3.25f, 4f, 5f}, 2, 3);
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(b.remaining()).isEqualTo(2 * (4 + 12));
    assertThat(b.getInt(0)).isEqualTo(3);
    assertThat(b.getFloat(4)).isEqualTo(1.5f);
    assertThat(b.getInt(16)).isEqualTo(3);
    VecsFormat.Vecs v = VecsFormat.readFvecs(f);
    assertThat(v.n()).isEqualTo(2);
    assertThat(v.row(1)).containsExactly(3.25f, 4f, 5f);

    Path g = tmp.resolve("gt.ivecs");
    VecsFormat.writeIvecs(g, new int[] {7, 1, 0, 9}, 2, 2);
    assertThat(VecsFormat.readIvecs(g).intRow(0)).containsExactly(7, 1);
    assertThatThrownBy(() -> VecsFormat.writeIvecs(g, new int[3], 2, 2)).hasMessageContaining("2 × 2");
  }
}
