package io.quarry.core.quant.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.TestData;
import io.quarry.core.quant.component.ProductQuantizer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PqHeldOutErrorTest {

  /** One sub-space, two codewords: the leave-one-out identity worked by hand. */
  @Test
  void leaveOneOutErrorOfATinyCodebook() {
    // codeword 0 = 0 is the mean of {-1, 1}; codeword 1 = 10 holds 10 alone
    ProductQuantizer pq = new ProductQuantizer(1, 1, 1, new float[] {0f, 10f});
    float[] y = {-1f, 1f, 10f};
    long[] counts = PqHeldOutError.addCounts(pq, y, 3, new long[2]);
    assertThat(counts).containsExactly(2, 1);
    // -1 without itself: codeword at 1, error 4 (other codeword 121); 1 likewise 4; 10 alone: its other codeword, 100
    assertThat(PqHeldOutError.estimate(pq, y, 3)).isCloseTo((4 + 4 + 100) / 3.0, within(1e-9));
    // partials over two batches merge to the same value
    PqHeldOutError a = new PqHeldOutError(counts).addBatch(pq, Arrays.copyOfRange(y, 0, 1), 1);
    PqHeldOutError b = new PqHeldOutError(counts).addBatch(pq, Arrays.copyOfRange(y, 1, 3), 2);
    assertThat(a.merge(b).mse()).isCloseTo(36.0, within(1e-9));
  }

  /**
   * With few training vectors per codeword (1,200 vectors, 256 codewords per sub-space) the in-sample error is far
   * below the error on new vectors of the same distribution; the held-out estimate is close to the latter.
   */
  @Test
  void estimatesTheErrorOnVectorsNotTrainedOn() {
    int d = 16;
    int nTrain = 1200;
    int nTest = 3000;
    float[] all = TestData.clustered(nTrain + nTest, d, 40, 0.3f, 11);
    float[] train = Arrays.copyOfRange(all, 0, nTrain * d);
    float[] test = Arrays.copyOfRange(all, nTrain * d, all.length);
    QuantizerModel model = QuantizerTrainer.train(train, nTrain, d, IndexSpec.parse("PQ4x8"), DistanceMetric.L2,
        QuantizerTrainer.Params.defaults(42));
    double inSample = model.info().metrics().get("pq.mse");
    double heldOut = model.info().metrics().get("pq.mse.heldout");
    double onNew = mean(model.encodeBatch(test, nTest).squaredErrors());
    System.out.printf("PQ4x8 on %d vectors: in-sample %.4f, held-out estimate %.4f, new vectors %.4f%n", nTrain,
        inSample, heldOut, onNew);
    assertThat(inSample).isLessThan(0.8 * onNew);
    assertThat(heldOut).isCloseTo(onNew, within(0.15 * onNew));
  }

  static double mean(float[] v) {
    double s = 0;
    for (float f : v) {
      s += f;
    }
    return s / v.length;
  }
}
