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

  @Test
  void subCodesEqualTheScalarNearestKernel() {
    Random rnd = new Random(15);
    for (int dsub : new int[] {1, 2, 3, 8, 16}) {
      for (int nbits : new int[] {4, 5, 8}) {
        int m = 3;
        int ksub = 1 << nbits;
        float[] books = gaussian(rnd, m * ksub * dsub, false);
        // ties: codeword 7 (and, with 8 bits, 200) repeats an earlier codeword of the same sub-quantizer
        for (int j = 0; j < m; j++) {
          System.arraycopy(books, (j * ksub + 2) * dsub, books, (j * ksub + 7) * dsub, dsub);
          if (ksub > 200) {
            System.arraycopy(books, (j * ksub + 150) * dsub, books, (j * ksub + 200) * dsub, dsub);
          }
        }
        ProductQuantizer pq = new ProductQuantizer(m, nbits, dsub, books);
        int n = 37;
        float[] x = gaussian(rnd, n * m * dsub, true);
        for (int j = 0; j < m; j++) { // rows 0 and 1 sit exactly on the repeated codewords
          System.arraycopy(books, (j * ksub + 2) * dsub, x, j * dsub, dsub);
          System.arraycopy(books, (j * ksub + (ksub > 200 ? 200 : 7)) * dsub, x, (m + j) * dsub, dsub);
        }
        x[2 * m * dsub] = Float.NaN; // row 2: a NaN key for every codeword of sub-quantizer 0
        x[3 * m * dsub] = Float.MAX_VALUE; // row 3: infinite keys
        int[] got = new int[n * m];
        int[] want = new int[n * m];
        pq.subCodes(x, n, got);
        for (int j = 0; j < m; j++) {
          L2Kernel.nearest(x, j * dsub, m * dsub, n, books, j * ksub * dsub, pq.codewordNorms(), j * ksub, ksub,
              dsub, want, j, m);
        }
        assertThat(got).as("dsub=%d nbits=%d", dsub, nbits).containsExactly(want);
      }
    }
  }

  @Test
  void rotationEqualsTheScalarDotPerOutput() {
    Random rnd = new Random(16);
    for (int d : new int[] {1, 7, 16, 24, 40, 384}) {
      float[] r = gaussian(rnd, d * d, false);
      VectorTransform t = VectorTransform.rotation(r, d);
      for (int n : new int[] {1, 5, 17}) {
        float[] x = gaussian(rnd, n * d, true);
        float[] got = new float[n * d];
        t.apply(x, n, got);
        float[] want = new float[n * d];
        for (int i = 0; i < n; i++) {
          for (int k = 0; k < d; k++) {
            want[i * d + k] = L2Kernel.dot(r, k * d, x, i * d, d);
          }
        }
        assertBits(got, want, n * d, "rotation d=" + d + " n=" + n);
      }
    }
  }
}
