package io.quarry.core.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Vector API kernels ({@link VectorKernels}) against the scalar loops they replace, bit for bit
 * ({@link Float#floatToIntBits} equal): coarse distances, inner-product tables, the ADC sums and the table
 * combination of the precomputed L2 decomposition. The Maven build runs the tests with {@code --add-modules
 * jdk.incubator.vector}, so {@link Simd#ENABLED} holds here.
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
  void vectorSumsEqualTheSequentialLoop() {
    Random rnd = new Random(13);
    int lanes = Simd.LANES;
    for (int m : new int[] {4, 8, 12, 48, 96}) {
      for (int ksub : new int[] {16, 64, 256}) {
        for (int n : new int[] {lanes, lanes + 1, 3 * lanes + 5, 200}) {
          float[] table = gaussian(rnd, m * ksub, true);
          byte[] c = new byte[n * m];
          for (int i = 0; i < c.length; i++) {
            c[i] = (byte) rnd.nextInt(ksub);
          }
          int[] words = new int[n * m / 4];
          ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(words);
          float[] got = new float[n];
          float[] want = new float[n];
          int done = VectorKernels.sums(words, n, m, ksub, table, got, VectorKernels.rowMap(m / 4),
              new int[4 * lanes]);
          assertThat(done).isEqualTo(n - n % lanes);
          AdcScan.sums(c, 0, n, m, ksub, table, want);
          assertBits(got, want, done, "sums M=" + m + " ksub=" + ksub + " n=" + n);
        }
      }
    }
  }

  @Test
  void gatherScanOfAListEqualsTheScalarScan() {
    Random rnd = new Random(15);
    for (int nbits : new int[] {8, 4, 6}) {
      for (int m : new int[] {8, 48}) {
        int ksub = 1 << nbits;
        int codeSize = (m * nbits + 7) / 8;
        for (int n : new int[] {5, Simd.LANES, 3 * Simd.LANES + 7, 400}) {
          byte[] codes = new byte[n * codeSize];
          for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
              PqCodes.put(codes, i * codeSize, j, nbits, rnd.nextInt(ksub));
            }
          }
          int[] ids = new int[n];
          for (int i = 0; i < n; i++) {
            ids[i] = 7 * i + 3;
          }
          float[] table = gaussian(rnd, m * ksub, true);
          TopK gather = new TopK(25);
          TopK scalar = new TopK(25);
          new AdcScan(m, nbits, codeSize, 1, true).scanList(ByteBuffer.wrap(codes), java.nio.IntBuffer.wrap(ids), n,
              table, 0.5f, -1f, gather);
          new AdcScan(m, nbits, codeSize, 1, false).scanList(ByteBuffer.wrap(codes), java.nio.IntBuffer.wrap(ids), n,
              table, 0.5f, -1f, scalar);
          assertThat(gather.result()).as("nbits=%d M=%d n=%d", nbits, m, n).isEqualTo(scalar.result());
        }
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
