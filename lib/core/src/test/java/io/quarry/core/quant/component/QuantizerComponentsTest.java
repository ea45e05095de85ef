package io.quarry.core.quant.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.TestData;
import io.quarry.core.quant.format.GoldenQuantizerTest;
import io.quarry.core.quant.ivf.ArrayInvertedLists;
import io.quarry.core.quant.ivf.IvfPqSearcher;
import io.quarry.core.quant.kernel.VectorMath;
import io.quarry.core.quant.train.OpqStats;
import io.quarry.core.quant.train.PqLloydStats;
import io.quarry.core.quant.train.Procrustes;
import io.quarry.core.quant.train.QuantizerTrainer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The three components of the quantizer chain, their batch paths and their file sections. */
class QuantizerComponentsTest {

  private static float[] gaussian(int n, long seed) {
    Random rnd = new Random(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) rnd.nextGaussian();
    }
    return a;
  }

  private static QuantizerModel trained(String spec, DistanceMetric metric) {
    int d = 16;
    float[] x = TestData.correlated(3000, d, 11);
    return QuantizerTrainer.train(x, 3000, d, IndexSpec.parse(spec), metric,
        new QuantizerTrainer.Params(3, 8, 1e-4, 256, 2));
  }

  @Test
  void rotationOfABatchEqualsRotationOfEachVectorAndIsTheMatrixProduct() {
    int d = 24;
    int n = 37; // not a multiple of any block size
    float[] r = Procrustes.rotation(toDouble(gaussian(d * d, 1)), d);
    VectorTransform t = VectorTransform.rotation(r, d);
    float[] x = gaussian(n * d, 2);
    float[] y = new float[n * d];
    t.apply(x, n, y);
    for (int i = 0; i < n; i++) {
      float[] xi = Arrays.copyOfRange(x, i * d, (i + 1) * d);
      assertThat(Arrays.copyOfRange(y, i * d, (i + 1) * d)).containsExactly(t.apply(xi));
      for (int k = 0; k < d; k++) {
        double s = 0;
        for (int j = 0; j < d; j++) {
          s += (double) r[k * d + j] * xi[j];
        }
        assertThat((double) y[i * d + k]).isCloseTo(s, org.assertj.core.data.Offset.offset(1e-4));
      }
    }
    VectorTransform id = VectorTransform.identity(d);
    assertThat(id.isIdentity()).isTrue();
    assertThat(id.apply(Arrays.copyOf(x, d))).containsExactly(Arrays.copyOf(x, d));
    assertThatThrownBy(() -> t.apply(new float[d + 1])).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dimension " + (d + 1));
  }

  private static double[] toDouble(float[] a) {
    double[] out = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i];
    }
    return out;
  }

  @Test
  void coarseAssignmentOfABatchEqualsPerVectorAndIsTheNearestCentroid() {
    int d = 8;
    int nlist = 300; // more than one centroid block of the kernel at small d? (16384 / 8 = 2048: one block) …
    float[] c = gaussian(nlist * d, 3);
    CoarseQuantizer cq = CoarseQuantizer.ivf(c, nlist, d);
    int n = 1000;
    float[] x = gaussian(n * d, 4);
    int[] lists = new int[n];
    cq.assign(x, n, lists);
    for (int i = 0; i < n; i++) {
      float[] xi = Arrays.copyOfRange(x, i * d, (i + 1) * d);
      assertThat(lists[i]).isEqualTo(cq.assign(xi)).isEqualTo(cq.probe(xi, 1)[0]).isEqualTo(cq.probe(xi, 5)[0]);
      // the exact nearest centroid, up to float rounding of the norm expansion
      float best = Float.POSITIVE_INFINITY;
      for (int l = 0; l < nlist; l++) {
        best = Math.min(best, cq.distance(xi, l));
      }
      assertThat(cq.distance(xi, lists[i])).isLessThanOrEqualTo(best + 1e-4f);
    }
  }

  @Test
  void coarseAssignmentSpansSeveralCentroidBlocks() {
    int d = 384; // 16384 / 384 = 42 centroids per kernel block: 100 centroids are 3 blocks
    int nlist = 100;
    float[] c = gaussian(nlist * d, 5);
    CoarseQuantizer cq = CoarseQuantizer.ivf(c, nlist, d);
    int n = 40;
    float[] x = new float[n * d];
    for (int i = 0; i < n; i++) { // vector i is near centroid (i * 7) % nlist
      int l = (i * 7) % nlist;
      for (int t = 0; t < d; t++) {
        x[i * d + t] = c[l * d + t] + 0.01f * (float) Math.sin(i + t);
      }
    }
    int[] lists = new int[n];
    cq.assign(x, n, lists);
    for (int i = 0; i < n; i++) {
      assertThat(lists[i]).isEqualTo((i * 7) % nlist);
    }
  }

  @Test
  void tiesGoToTheLowestIdInBatchAndPerVectorPaths() {
    int d = 4;
    float[] c = {1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0}; // centroids 0 and 1 coincide
    CoarseQuantizer cq = CoarseQuantizer.ivf(c, 3, d);
    float[] x = {1, 0, 0, 0, 0.5f, 0.5f, 0, 0};
    int[] lists = new int[2];
    cq.assign(x, 2, lists);
    assertThat(lists).containsExactly(0, 0); // second: equidistant to all three → 0
    assertThat(cq.probe(new float[] {1, 0, 0, 0}, 3)).containsExactly(0, 1, 2);
    ProductQuantizer pq = new ProductQuantizer(2, 1, 2, new float[] {1, 1, 1, 1, 0, 0, 0, 0});
    byte[] codes = new byte[2];
    pq.encode(new float[] {1, 1, 0, 0, 5, 5, 5, 5}, 2, codes);
    assertThat(pq.subCode(codes, 0, 0)).isZero(); // both codewords of sub-quantizer 0 equal (1, 1)
    assertThat(pq.subCode(codes, 0, 1)).isZero(); // (0,0) vs codewords (0,0),(0,0)
  }

  @Test
  void encodeBatchEqualsEncodeVectorForEverySpec() {
    for (String spec : List.of("OPQ4,IVF16,PQ4x8", "IVF16,PQ8x5", "PQ4x8", "IVF16,Flat", "OPQ8,PQ8x3")) {
      QuantizerModel m = trained(spec, DistanceMetric.L2);
      int n = 1500; // more than one ENCODE_BLOCK
      float[] x = TestData.clustered(n, 16, 20, 0.4f, 12);
      QuantizerModel.EncodedBatch b = m.encodeBatch(x, n);
      assertThat(b.n()).isEqualTo(n);
      for (int i = 0; i < n; i++) {
        QuantizerModel.Encoded e = m.encodeVector(TestData.row(x, 16, i));
        assertThat(b.lists()[i]).as(spec + " row " + i).isEqualTo(e.list());
        assertThat(b.code(i)).as(spec + " row " + i).isEqualTo(e.code());
        assertThat(b.squaredErrors()[i]).isEqualTo(e.squaredError());
        // the step-by-step path agrees too
        float[] xt = m.preTransform(TestData.row(x, 16, i));
        byte[] code = new byte[m.codeSize()];
        m.encode(xt, m.assign(xt), code, 0);
        assertThat(code).isEqualTo(e.code());
      }
    }
  }

  @Test
  void pqEncodingPicksTheNearestCodewordAndAdcTablesMatchDecode() {
    int m = 4;
    int nbits = 4;
    int dsub = 3;
    ProductQuantizer pq = new ProductQuantizer(m, nbits, dsub, gaussian(m * 16 * dsub, 6));
    float[] x = gaussian(50 * m * dsub, 7);
    byte[] codes = new byte[50 * pq.codeSize()];
    pq.encode(x, 50, codes);
    float[] ip = new float[m * 16];
    float[] l2 = new float[m * 16];
    for (int i = 0; i < 50; i++) {
      float[] xi = Arrays.copyOfRange(x, i * 12, (i + 1) * 12);
      pq.innerProductTable(xi, ip);
      pq.l2Table(xi, l2);
      float[] rec = new float[12];
      pq.addReconstruction(codes, i * pq.codeSize(), rec, 0);
      float ipSum = 0;
      float l2Sum = 0;
      for (int j = 0; j < m; j++) {
        int k = pq.subCode(codes, i * pq.codeSize(), j);
        ipSum += ip[j * 16 + k];
        l2Sum += l2[j * 16 + k];
        for (int c = 0; c < 16; c++) {
          assertThat(l2[j * 16 + k]).isLessThanOrEqualTo(l2[j * 16 + c] + 1e-5f);
        }
      }
      assertThat(ipSum).isCloseTo(VectorMath.dot(xi, rec), org.assertj.core.data.Offset.offset(1e-4f));
      assertThat(l2Sum).isCloseTo(VectorMath.l2sq(xi, rec), org.assertj.core.data.Offset.offset(1e-4f));
    }
  }

  @Test
  void indexSpecBuildsAndChecksTheChain() {
    IndexSpec spec = IndexSpec.parse("OPQ2,IVF3,PQ2x2");
    VectorTransform t = spec.transform(4, GoldenQuantizerTest.rotation());
    CoarseQuantizer c = spec.coarse(4, GoldenQuantizerTest.centroids());
    ProductQuantizer pq = spec.productQuantizer(4, GoldenQuantizerTest.codebooks());
    spec.checkChain(t, c, pq);
    assertThat(IndexSpec.parse("PQ2x2").coarse(4, null).nlist()).isEqualTo(1);
    assertThat(IndexSpec.parse("IVF3,Flat").productQuantizer(4, null)).isNull();
    assertThatThrownBy(() -> spec.checkChain(VectorTransform.identity(4), c, pq))
        .hasMessageContaining("needs an OPQ rotation");
    assertThatThrownBy(() -> spec.checkChain(t, CoarseQuantizer.single(4), pq)).hasMessageContaining("3 coarse");
    assertThatThrownBy(() -> spec.checkChain(t, c, null)).hasMessageContaining("PQ2x2");
    assertThatThrownBy(() -> IndexSpec.parse("IVF3,Flat").productQuantizer(4, new float[4]))
        .hasMessageContaining("Flat");
  }

  @Test
  void preparedQueriesGiveTheSameHitsAsPlainSearch() {
    for (DistanceMetric metric : DistanceMetric.values()) {
      QuantizerModel m = trained("OPQ4,IVF16,PQ4x8", metric);
      float[] x = TestData.correlated(800, 16, 13);
      ArrayInvertedLists lists = ArrayInvertedLists.build(m, x, 800);
      IvfPqSearcher s = new IvfPqSearcher(m);
      for (int q = 0; q < 20; q++) {
        float[] query = TestData.row(x, 16, q * 31);
        IvfPqSearcher.PreparedQuery pq = s.prepare(query, 4);
        assertThat(pq.probes()).containsExactly(m.probe(m.preTransform(query), 4));
        assertThat(s.search(pq, 10, lists)).isEqualTo(s.search(query, 10, 4, lists));
        assertThat(s.search(s.prepareExhaustive(query), 10, lists)).isEqualTo(s.searchExhaustive(query, 10, lists));
      }
    }
  }

  @Test
  void lloydStatsOfABatchEqualThoseOfSingleVectors() {
    QuantizerModel m = trained("IVF16,PQ4x8", DistanceMetric.L2);
    float[] x = TestData.clustered(700, 16, 10, 0.3f, 14);
    PqLloydStats batch = new PqLloydStats(4, 256, 4).addBatch(x, 700, m.pq());
    PqLloydStats single = new PqLloydStats(4, 256, 4);
    for (int i = 0; i < 700; i++) {
      single.add(TestData.row(x, 16, i), m.pq());
    }
    assertThat(batch.update(m.codebooks(), new java.util.SplittableRandom(1)).codebooks())
        .containsExactly(single.update(m.codebooks(), new java.util.SplittableRandom(1)).codebooks());
    assertThat(batch.mse()).isEqualTo(single.mse());
    OpqStats ob = new OpqStats(16).addBatch(x, 700, VectorTransform.identity(16), m.pq());
    OpqStats os = new OpqStats(16);
    for (int i = 0; i < 700; i++) {
      os.add(TestData.row(x, 16, i), VectorTransform.identity(16), m.pq());
    }
    assertThat(ob.crossCovariance()).containsExactly(os.crossCovariance());
  }
}
