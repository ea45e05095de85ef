package io.quarry.core.quant.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quarry.core.quant.kernel.VectorMath;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ProcrustesTest {

  @Test
  void svdReconstructsTheMatrix() {
    int d = 20;
    Random rnd = new Random(3);
    double[] a = new double[d * d];
    for (int i = 0; i < a.length; i++) {
      a[i] = rnd.nextGaussian();
    }
    Procrustes.Svd svd = Procrustes.svd(a, d);
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        double v = 0;
        for (int k = 0; k < d; k++) {
          v += svd.u()[i * d + k] * svd.s()[k] * svd.v()[j * d + k];
        }
        assertThat(v).isCloseTo(a[i * d + j], within(1e-9));
      }
    }
  }

  @Test
  void recoversAKnownRotationAndHandlesRankDeficiency() {
    int d = 6;
    // R0: rotation by a random orthogonal matrix (from the SVD of a random matrix)
    Random rnd = new Random(5);
    double[] g = new double[d * d];
    for (int i = 0; i < g.length; i++) {
      g[i] = rnd.nextGaussian();
    }
    Procrustes.Svd s = Procrustes.svd(g, d);
    float[] r0 = new float[d * d];
    for (int i = 0; i < d * d; i++) {
      r0[i] = (float) s.u()[i];
    }
    // y = R0 x; the last two dimensions of x are always 0 (rank-deficient cross-covariance)
    double[] acc = new double[d * d];
    for (int n = 0; n < 200; n++) {
      float[] x = new float[d];
      for (int t = 0; t < d - 2; t++) {
        x[t] = (float) rnd.nextGaussian();
      }
      float[] y = new float[d];
      for (int i = 0; i < d; i++) {
        y[i] = VectorMath.dot(r0, i * d, x, 0, d);
      }
      Procrustes.accumulate(acc, x, y);
    }
    float[] r = Procrustes.rotation(acc, d);
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        assertThat(VectorMath.dot(r, i * d, r, j * d, d)).isCloseTo(i == j ? 1f : 0f, within(1e-5f));
      }
      // on the data's sub-space R equals R0
      for (int j = 0; j < d - 2; j++) {
        assertThat(r[i * d + j]).isCloseTo(r0[i * d + j], within(1e-4f));
      }
    }
  }

  /** The row-blocked batch accumulation equals one call per pair bit for bit (d = 200: several row blocks). */
  @Test
  void batchAccumulationEqualsPairByPair() {
    int d = 200;
    int rows = 37;
    Random rnd = new Random(4);
    float[] x = new float[rows * d];
    float[] y = new float[rows * d];
    for (int i = 0; i < x.length; i++) {
      x[i] = i % 7 == 0 ? 0f : (float) rnd.nextGaussian();
      y[i] = (float) rnd.nextGaussian();
    }
    double[] one = new double[d * d];
    for (int b = 0; b < rows; b++) {
      Procrustes.accumulate(one, java.util.Arrays.copyOfRange(x, b * d, (b + 1) * d),
          java.util.Arrays.copyOfRange(y, b * d, (b + 1) * d));
    }
    double[] batch = new double[d * d];
    Procrustes.accumulate(batch, x, y, rows, d);
    assertThat(batch).containsExactly(one);
  }
}
