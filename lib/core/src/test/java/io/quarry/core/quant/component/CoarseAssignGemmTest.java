package io.quarry.core.quant.component;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.TestData;
import io.quarry.core.quant.kernel.BlockProducts;
import io.quarry.core.quant.train.PqLloydStats;
import io.quarry.core.quant.train.QuantizerTrainer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link CoarseQuantizer#assign(float[], int, int[], BlockProducts)}: whatever summation order the inner-product
 * kernel has (within the dot-product error bound), the lists equal the reference kernel's bit for bit, including
 * exact ties (duplicate centroids) and near ties (midpoints between centroids).
 */
class CoarseAssignGemmTest {

  /** Products accumulated in double, then rounded: a different order and precision than the reference kernel. */
  private static final BlockProducts DOUBLE = (x, n, c, k, d, out) -> {
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < k; j++) {
        double s = 0;
        for (int t = 0; t < d; t++) {
          s += (double) x[i * d + t] * c[j * d + t];
        }
        out[i * k + j] = (float) s;
      }
    }
  };

  /**
   * The worst case the contract allows: the exact product moved by the full bound {@code γ_d Σ|x_t c_t|}, up or
   * down by the parity of {@code i + j}.
   */
  private static final BlockProducts ADVERSARIAL = (x, n, c, k, d, out) -> {
    double u = 0x1.0p-24;
    double gamma = d * u / (1 - d * u);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < k; j++) {
        double s = 0;
        double abs = 0;
        for (int t = 0; t < d; t++) {
          double p = (double) x[i * d + t] * c[j * d + t];
          s += p;
          abs += Math.abs(p);
        }
        out[i * k + j] = (float) (s + ((i + j) % 2 == 0 ? 1 : -1) * gamma * abs * 0.999);
      }
    }
  };

  private static float[] hardVectors(float[] c, int k, int d, int n, Random rnd) {
    float[] x = new float[n * d];
    for (int i = 0; i < n; i++) {
      int a = rnd.nextInt(k);
      int b = rnd.nextInt(k);
      for (int t = 0; t < d; t++) {
        switch (i % 4) {
          case 0 -> x[i * d + t] = c[a * d + t]; // a centroid itself
          case 1 -> x[i * d + t] = 0.5f * (c[a * d + t] + c[b * d + t]); // a near tie between two centroids
          case 2 -> x[i * d + t] = c[a * d + t] + 1e-4f * (float) rnd.nextGaussian();
          default -> x[i * d + t] = (float) rnd.nextGaussian() * 0.3f;
        }
      }
    }
    return x;
  }

  @Test
  void gemmShortlistGivesTheReferenceListsBitForBit() {
    int d = 96;
    int k = 300;
    int n = 1001; // not a multiple of the 256-row gemm block
    Random rnd = new Random(7);
    float[] c = new float[k * d];
    for (int i = 0; i < c.length; i++) {
      c[i] = (float) rnd.nextGaussian() * 0.3f;
    }
    System.arraycopy(c, 5 * d, c, 17 * d, d); // exact ties: duplicate centroids
    System.arraycopy(c, 40 * d, c, 41 * d, d);
    CoarseQuantizer q = CoarseQuantizer.ivf(c, k, d);
    float[] x = hardVectors(c, k, d, n, rnd);
    int[] ref = new int[n];
    q.assign(x, n, ref);
    for (BlockProducts gemm : new BlockProducts[] {DOUBLE, ADVERSARIAL}) {
      int[] got = new int[n];
      q.assign(x, n, got, gemm);
      assertThat(got).isEqualTo(ref);
    }
    // a vector equal to a duplicated centroid goes to the lower id, as in the reference
    int[] one = new int[1];
    q.assign(java.util.Arrays.copyOfRange(c, 17 * d, 18 * d), 1, one, ADVERSARIAL);
    assertThat(one[0]).isEqualTo(5);
  }

  /**
   * Between the search graph's threshold (16,384 lists) and the batch graph's (32,768) a batch is assigned exactly:
   * the flat scan's lists whichever kernel, not the graph's (which may miss).
   */
  @Test
  void batchesBelowTheBatchGraphThresholdAreAssignedExactly() {
    int d = 8;
    int k = CoarseQuantizer.graphMinNlist();
    assertThat(k).isLessThan(CoarseQuantizer.batchGraphMinNlist());
    Random rnd = new Random(21);
    float[] c = new float[k * d];
    for (int i = 0; i < c.length; i++) {
      c[i] = (float) rnd.nextGaussian();
    }
    CoarseQuantizer q = CoarseQuantizer.ivf(c, k, d);
    assertThat(q.usesGraph()).isTrue();
    assertThat(q.assignsThroughGraph()).isFalse();
    int n = 300;
    float[] x = hardVectors(c, k, d, n, rnd);
    int[] flat = new int[n];
    for (int i = 0; i < n; i++) {
      flat[i] = q.probeFlat(java.util.Arrays.copyOfRange(x, i * d, (i + 1) * d), 1)[0];
    }
    int[] ref = new int[n];
    q.assign(x, n, ref);
    assertThat(ref).isEqualTo(flat);
    for (BlockProducts gemm : new BlockProducts[] {DOUBLE, ADVERSARIAL}) {
      int[] got = new int[n];
      q.assign(x, n, got, gemm);
      assertThat(got).isEqualTo(flat);
    }
  }

  /** The level-2 k-means' assignment through products: the same centroids bit for bit with or without a kernel. */
  @Test
  void kmeansWithProductsGivesTheSameCentroidsWhateverTheKernel() {
    int d = 24;
    int n = 2000;
    int k = 40;
    float[] x = TestData.correlated(n, d, 5);
    io.quarry.core.quant.train.KMeans.Result ref = io.quarry.core.quant.train.KMeans.train(x, n, d, k, 8, 0, 9,
        (BlockProducts) null);
    assertThat(ref.iterations()).isEqualTo(8);
    for (BlockProducts gemm : new BlockProducts[] {DOUBLE, ADVERSARIAL}) {
      io.quarry.core.quant.train.KMeans.Result got = io.quarry.core.quant.train.KMeans.train(x, n, d, k, 8, 0, 9,
          gemm);
      assertThat(got.centroids()).isEqualTo(ref.centroids());
      assertThat(got.mse()).isEqualTo(ref.mse());
    }
    // a k-means, not a copy of the seeds: as good as the l2sq-keyed one to within rounding
    double plain = io.quarry.core.quant.train.KMeans.train(x, n, d, k, 8, 0, 9).mse();
    assertThat(ref.mse()).isCloseTo(plain, org.assertj.core.api.Assertions.within(plain * 0.02));
  }

  @Test
  void encodeBatchWithGemmEqualsTheReferenceEncoding() {
    int d = 16;
    int n = 700;
    float[] x = TestData.correlated(3000, d, 11);
    QuantizerModel model = QuantizerTrainer.train(x, 3000, d, IndexSpec.parse("OPQ4,IVF32,PQ4x8"), DistanceMetric.L2,
        new QuantizerTrainer.Params(3, 8, 1e-4, 256, 2));
    QuantizerModel.EncodedBatch ref = model.encodeBatch(x, n);
    for (BlockProducts gemm : new BlockProducts[] {DOUBLE, ADVERSARIAL}) {
      QuantizerModel.EncodedBatch got = model.encodeBatch(x, n, gemm);
      assertThat(got.lists()).isEqualTo(ref.lists());
      assertThat(got.codes()).isEqualTo(ref.codes());
      assertThat(got.squaredErrors()).isEqualTo(ref.squaredErrors());
    }
  }

  /**
   * {@link ProductQuantizer#subCodes(float[], int, int[], BlockProducts)}: one product call per sub-quantizer per
   * block, the same sub-codes as the reference kernel for both kernels, with duplicate codewords and near ties; the
   * Lloyd and OPQ statistics built on it are identical too.
   */
  @Test
  void pqSubCodesWithGemmEqualTheReferenceSubCodes() {
    int m = 4;
    int dsub = 8;
    int ksub = 256;
    int d = m * dsub;
    int n = 700; // not a multiple of the 256-row block
    Random rnd = new Random(13);
    float[] books = new float[m * ksub * dsub];
    for (int i = 0; i < books.length; i++) {
      books[i] = (float) rnd.nextGaussian() * 0.5f;
    }
    System.arraycopy(books, 3 * dsub, books, 200 * dsub, dsub); // sub-quantizer 0: codeword 200 = codeword 3
    System.arraycopy(books, (2 * ksub + 9) * dsub, books, (2 * ksub + 10) * dsub, dsub);
    ProductQuantizer pq = new ProductQuantizer(m, 8, dsub, books);
    float[] x = new float[n * d];
    for (int j = 0; j < m; j++) {
      float[] sub = java.util.Arrays.copyOfRange(books, j * ksub * dsub, (j + 1) * ksub * dsub);
      float[] h = hardVectors(sub, ksub, dsub, n, rnd);
      for (int i = 0; i < n; i++) {
        System.arraycopy(h, i * dsub, x, i * d + j * dsub, dsub);
      }
    }
    int[] ref = new int[n * m];
    pq.subCodes(x, n, ref);
    int calls = 0;
    for (BlockProducts gemm : new BlockProducts[] {DOUBLE, ADVERSARIAL}) {
      int[] count = new int[1];
      BlockProducts counted = (a, rows, c, k, dd, out) -> {
        count[0]++;
        assertThat(k).isEqualTo(ksub);
        assertThat(dd).isEqualTo(dsub);
        gemm.products(a, rows, c, k, dd, out);
      };
      int[] got = new int[n * m];
      pq.subCodesFromProducts(x, n, got, counted);
      assertThat(got).isEqualTo(ref);
      calls = count[0];
      PqLloydStats a = new PqLloydStats(m, ksub, dsub).addBatch(x, n, pq, gemm);
      PqLloydStats b = new PqLloydStats(m, ksub, dsub).addBatch(x, n, pq);
      assertThat(a.update(pq.codebooks(), new java.util.SplittableRandom(3)).codebooks())
          .containsExactly(b.update(pq.codebooks(), new java.util.SplittableRandom(3)).codebooks());
      assertThat(a.mse()).isEqualTo(b.mse());
      VectorTransform r = VectorTransform.identity(d);
      assertThat(new io.quarry.core.quant.train.OpqStats(d).addBatch(x, n, r, pq, gemm).crossCovariance())
          .containsExactly(new io.quarry.core.quant.train.OpqStats(d).addBatch(x, n, r, pq).crossCovariance());
    }
    assertThat(calls).isEqualTo(m * 3); // 700 rows = 3 blocks of ≤ 256, one call per sub-quantizer each
    // a sub-vector equal to a duplicated codeword gets the lower index, as in the reference
    float[] one = new float[d];
    System.arraycopy(books, 200 * dsub, one, 0, dsub);
    int[] code = new int[m];
    pq.subCodesFromProducts(one, 1, code, ADVERSARIAL);
    assertThat(code[0]).isEqualTo(3);
  }
}
