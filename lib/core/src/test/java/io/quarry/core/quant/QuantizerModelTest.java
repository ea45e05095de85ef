package io.quarry.core.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.quant.component.PqCodes;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.quant.kernel.VectorMath;
import io.quarry.core.quant.train.QuantizerTrainer;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class QuantizerModelTest {

  private static QuantizerModel model(String spec, DistanceMetric metric) {
    int d = 12;
    float[] x = TestData.clustered(1200, d, 10, 0.3f, 3);
    return QuantizerTrainer.train(x, 1200, d, IndexSpec.parse(spec), metric,
        new QuantizerTrainer.Params(5, 10, 1e-4, 256, 3));
  }

  @Test
  void writeReadRoundTripsByteIdentically() throws IOException {
    for (String spec : new String[] {"OPQ4,IVF8,PQ4x8", "IVF8,PQ6x5", "PQ3x8", "IVF8,Flat"}) {
      QuantizerModel m = model(spec, DistanceMetric.IP);
      byte[] bytes = QuantizerFormat.toBytes(m);
      QuantizerModel back = QuantizerFormat.fromBytes(bytes, "mem.bin");
      assertThat(back.spec()).isEqualTo(m.spec());
      assertThat(back.metric()).isEqualTo(DistanceMetric.IP);
      assertThat(back.info()).isEqualTo(m.info());
      assertThat(QuantizerFormat.toBytes(back)).isEqualTo(bytes);
      assertThat(QuantizerFormat.headerJson(back).get("metrics").has("pq.mse")).isTrue();
    }
  }

  @Test
  void corruptInputNamesTheSource() {
    byte[] bytes = QuantizerFormat.toBytes(model("IVF8,PQ4x8", DistanceMetric.L2));
    byte[] flipped = bytes.clone();
    flipped[bytes.length - 20] ^= 0x10;
    assertThatThrownBy(() -> QuantizerFormat.fromBytes(flipped, "s3a://b/q.bin"))
        .isInstanceOf(IOException.class).hasMessageContaining("s3a://b/q.bin").hasMessageContaining("CRC32");
    assertThatThrownBy(() -> QuantizerFormat.fromBytes(Arrays.copyOf(bytes, bytes.length - 100), "q.bin"))
        .hasMessageContaining("q.bin: truncated");
    byte[] badMagic = bytes.clone();
    badMagic[0] = 'X';
    assertThatThrownBy(() -> QuantizerFormat.fromBytes(badMagic, "q.bin")).hasMessageContaining("bad magic");
    byte[] newer = bytes.clone();
    newer[11] = 9;
    assertThatThrownBy(() -> QuantizerFormat.fromBytes(newer, "q.bin"))
        .hasMessageContaining("unsupported quantizer format version 9");
  }

  @Test
  void bitPackingRoundTripsForEveryNbits() {
    Random rnd = new Random(1);
    for (int nbits = 1; nbits <= 8; nbits++) {
      int m = 13;
      byte[] code = new byte[(m * nbits + 7) / 8 + 3];
      int[] vals = new int[m];
      for (int j = 0; j < m; j++) {
        vals[j] = rnd.nextInt(1 << nbits);
        PqCodes.put(code, 3, j, nbits, vals[j]);
      }
      for (int j = 0; j < m; j++) {
        assertThat(PqCodes.get(code, 3, j, nbits)).isEqualTo(vals[j]);
      }
    }
  }

  @Test
  void decodeInvertsEncodeUpToQuantization() {
    QuantizerModel flat = model("IVF8,Flat", DistanceMetric.L2);
    float[] x = TestData.clustered(1, 12, 1, 1f, 99);
    QuantizerModel.Encoded e = flat.encodeVector(x);
    assertThat(flat.decode(e.list(), e.code(), 0)).containsExactly(x);
    assertThat(e.squaredError()).isZero();
    QuantizerModel pq = model("OPQ4,IVF8,PQ6x5", DistanceMetric.L2);
    assertThat(pq.codeSize()).isEqualTo(4);
    QuantizerModel.Encoded ep = pq.encodeVector(x);
    float[] rec = pq.decode(ep.list(), ep.code(), 0);
    assertThat(VectorMath.l2sq(pq.preTransform(x), rec)).isEqualTo(ep.squaredError());
    assertThatThrownBy(() -> pq.decode(8, ep.code(), 0)).hasMessageContaining("list id 8 out of range");
  }

  @Test
  void constructorRejectsBadShapes() {
    IndexSpec spec = IndexSpec.parse("IVF2,PQ2x1");
    assertThatThrownBy(() -> new QuantizerModel(spec, DistanceMetric.L2, 4, null, new float[7], new float[8], null))
        .hasMessageContaining("centroids (nlist × d): expected 8 floats, got 7");
    float[] cb = new float[8];
    cb[3] = Float.NaN;
    assertThatThrownBy(() -> new QuantizerModel(spec, DistanceMetric.L2, 4, null, new float[8], cb, null))
        .hasMessageContaining("non-finite");
  }
}
