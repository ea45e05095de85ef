package io.quarry.core.quant.component;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.quant.kernel.L2Kernel;
import io.quarry.core.quant.kernel.Simd;
import io.quarry.core.quant.kernel.VectorKernels;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Vector API kernels ({@link VectorKernels}) against the scalar loops they replace, bit for bit
 * ({@link Float#floatToIntBits} equal): coarse distances, inner-product tables and the table combination of the
 * precomputed L2 decomposition. The Maven build runs the tests with {@code --add-modules jdk.incubator.vector}, so
 * {@link Simd#ENABLED} holds here.
 */
class VectorKernelsTest {
  private static float[] gaussian(Random rnd, int n, boolean wideRange) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (rnd.nextGaussian() * (wideRange ? Math.pow(10, rnd.nextInt(7) - 3) : 1));
    }
    return x;
  }

  private static void assertBits(float[] got, float[] want, int n, String what) {
    for (int i = 0; i < n; i++) {
      assertThat(Float.floatToIntBits(got[i])).as("%s[%d]: %s vs %s", what, i, got[i], want[i])
          .isEqualTo(Float.floatToIntBits(want[i]));
    }
  }

  @Test
  void theTestJvmHasTheVectorApi() {
    assertThat(Simd.ENABLED).isTrue();
    assertThat(Simd.LANES).isGreaterThanOrEqualTo(4);
  }

  @Test
  void coarseDistancesEqualTheScalarKernel() {
    Random rnd = new Random(11);
    for (int d : new int[] {1, 2, 3, 7, 24, 384}) {
      for (int nlist : new int[] {1, 15, 16, 17, 64, 300}) {
        float[] c = gaussian(rnd, nlist * d, true);
        CoarseQuantizer cq = CoarseQuantizer.ivf(c, nlist, d);
        for (int q = 0; q < 3; q++) {
          float[] xt = gaussian(rnd, d, q == 2);
          float[] got = new float[nlist];
          float[] want = new float[nlist];
          cq.distances(xt, got);
          L2Kernel.distances(xt, 0, c, L2Kernel.norms(c, 0, nlist, d), nlist, d, want);
          assertBits(got, want, nlist, "distance d=" + d + " nlist=" + nlist);
        }
      }
    }
  }

  @Test
  void innerProductTablesEqualTheScalarLoops() {
    Random rnd = new Random(12);
    for (int dsub : new int[] {1, 2, 3, 4, 5, 7, 8, 9, 16}) {
      for (int nbits : new int[] {4, 5, 8}) {
        int m = 3;
        int ksub = 1 << nbits;
        ProductQuantizer pq = new ProductQuantizer(m, nbits, dsub, gaussian(rnd, m * ksub * dsub, true));
        float[] x = gaussian(rnd, m * dsub, false);
        float[] got = new float[m * ksub];
        float[] want = new float[m * ksub];
        pq.innerProductTable(x, got);
        pq.innerProductTableScalar(x, want);
        assertBits(got, want, m * ksub, "ip dsub=" + dsub + " nbits=" + nbits);
      }
    }
  }

  @Test
  void maddEqualsTheScalarExpression() {
    Random rnd = new Random(14);
    for (int n : new int[] {1, 15, 16, 33, 12288}) {
      float[] a = gaussian(rnd, n + 5, true);
      float[] b = gaussian(rnd, n, true);
      float[] got = new float[n];
      float[] want = new float[n];
      VectorKernels.madd(a, 5, -2f, b, got, 0, n);
      for (int i = 0; i < n; i++) {
        want[i] = a[5 + i] + -2f * b[i];
      }
      assertBits(got, want, n, "madd n=" + n);
    }
  }
}
