package io.quarry.core.quant.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.TestData;
import io.quarry.core.quant.train.QuantizerTrainer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The section bodies of {@link QuantizerFormat} on a trained model (the file as a whole: QuantizerModelTest). */
class QuantizerFormatTest {
  @Test
  void eachComponentRoundTripsItsSection() throws IOException {
    int d = 16;
    QuantizerModel m = QuantizerTrainer.train(TestData.correlated(3000, d, 11), 3000, d,
        IndexSpec.parse("OPQ4,IVF16,PQ4x6"), DistanceMetric.IP, new QuantizerTrainer.Params(3, 8, 1e-4, 256, 2));
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bos);
    QuantizerFormat.writeRotation(out, m.transform());
    QuantizerFormat.writeCentroids(out, m.coarse());
    QuantizerFormat.writeCodebooks(out, m.pq());
    out.flush();
    assertThat(bos.size()).isEqualTo(4 + 4 * 16 * 16 + 8 + 4 * 16 * 16 + 12 + 4 * 4 * 64 * 4);
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bos.toByteArray()));
    assertThat(QuantizerFormat.readRotation(in, 16, "s").matrix()).containsExactly(m.rotation());
    assertThat(QuantizerFormat.readCentroids(in, 16, 16, "s").centroids()).containsExactly(m.centroids());
    assertThat(QuantizerFormat.readCodebooks(in, 4, 6, 4, "s").codebooks()).containsExactly(m.codebooks());
    DataInputStream again = new DataInputStream(new ByteArrayInputStream(bos.toByteArray()));
    assertThatThrownBy(() -> QuantizerFormat.readRotation(again, 8, "q.bin")).isInstanceOf(IOException.class)
        .hasMessageContaining("q.bin").hasMessageContaining("OPQR");
  }
}
