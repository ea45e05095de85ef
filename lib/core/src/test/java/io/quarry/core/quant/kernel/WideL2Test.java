package io.quarry.core.quant.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * {@link WideL2}: the Vector API form and the scalar twin give the same bits for every length (tails included),
 * and the value is a squared L2 distance (close to {@link VectorMath#l2sq}'s, which sums in another order). The
 * Maven build runs this class on the machine's widest vectors and again with {@code -XX:UseAVX=2}.
 */
class WideL2Test {
  @Test
  void vectorAndScalarFormsGiveTheSameBits() {
    assertThat(Simd.ENABLED).isTrue();
    Random rnd = new Random(21);
    for (int d : new int[] {1, 7, 31, 32, 33, 64, 100, 384, 385, 768}) {
      for (int rep = 0; rep < 20; rep++) {
        float[] a = new float[d + 3];
        float[] b = new float[d + 5];
        for (int i = 0; i < a.length; i++) {
          a[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(5) - 2));
        }
        for (int i = 0; i < b.length; i++) {
          b[i] = (float) rnd.nextGaussian();
        }
        float v = WideL2.l2sq(a, 3, b, 5, d);
        float s = WideL2.scalar(a, 3, b, 5, d);
        assertThat(Float.floatToIntBits(v)).as("d=%d", d).isEqualTo(Float.floatToIntBits(s));
        double exact = 0;
        for (int t = 0; t < d; t++) {
          double df = (double) a[3 + t] - b[5 + t];
          exact += df * df;
        }
        assertThat((double) v).isCloseTo(exact, Offset.offset(1e-5 * exact + 1e-30));
        assertThat(v).isCloseTo(VectorMath.l2sq(a, 3, b, 5, d), Offset.offset(1e-5f * v));
      }
    }
  }
}
