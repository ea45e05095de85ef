package io.quarry.core.quant.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.Neighbor;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.TestData;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.quant.ivf.ArrayInvertedLists;
import io.quarry.core.quant.ivf.IvfPqSearcher;
import io.quarry.core.quant.kernel.VectorMath;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Property tests of training, encoding and ADC search (issue 4). */
class QuantizerPropertiesTest {
  private static final QuantizerTrainer.Params P = new QuantizerTrainer.Params(7, 20, 1e-4, 256, 6);

  private static double meanSquaredError(QuantizerModel model, float[] x, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      s += model.encodeVector(TestData.row(x, model.dim(), i)).squaredError();
    }
    return s / n;
  }

  private static double meanSquaredNorm(float[] x, int n, int d) {
    double mean[] = new double[d];
    for (int i = 0; i < n; i++) {
      for (int t = 0; t < d; t++) {
        mean[t] += x[i * d + t] / (double) n;
      }
    }
    double s = 0;
    for (int i = 0; i < n; i++) {
      for (int t = 0; t < d; t++) {
        double v = x[i * d + t] - mean[t];
        s += v * v;
      }
    }
    return s / n;
  }

  @Test
  void reconstructionErrorIsBoundedAndShrinksWithMoreCodeBits() {
    int n = 4000;
    int d = 32;
    float[] x = TestData.clustered(n, d, 20, 0.3f, 1);
    double variance = meanSquaredNorm(x, n, d);
    QuantizerModel ivfOnly = QuantizerTrainer.train(x, n, d, IndexSpec.parse("IVF16,PQ4x1"), DistanceMetric.L2, P);
    QuantizerModel pq8 = QuantizerTrainer.train(x, n, d, IndexSpec.parse("IVF16,PQ8x8"), DistanceMetric.L2, P);
    QuantizerModel pq16 = QuantizerTrainer.train(x, n, d, IndexSpec.parse("IVF16,PQ16x8"), DistanceMetric.L2, P);
    double e1 = meanSquaredError(ivfOnly, x, n);
    double e8 = meanSquaredError(pq8, x, n);
    double e16 = meanSquaredError(pq16, x, n);
    // residual PQ must improve on the coarse quantizer alone, and more sub-quantizers must not hurt
    assertThat(pq8.info().metrics().get("ivf.mse")).isLessThan(variance);
    assertThat(e8).isLessThan(pq8.info().metrics().get("ivf.mse"));
    assertThat(e16).isLessThan(e8);
    assertThat(e1).isLessThan(variance);
    // with noise sigma 0.3 per dimension the residual energy is ~ d * 0.09; PQ16x8 must capture most of it
    assertThat(e16).isLessThan(0.5 * d * 0.09);
    assertThat(pq16.info().metrics().get("pq.mse")).isCloseTo(e16, within(1e-3));
  }

  @Test
  void pointsEqualToCentroidsReconstructExactly() {
    // 256 distinct points and 256 codewords per sub-space: k-means++ picks every point, error 0
    int n = 256;
    int d = 8;
    float[] x = TestData.clustered(n, d, n, 1f, 3);
    QuantizerModel model = QuantizerTrainer.train(x, n, d, IndexSpec.parse("PQ2x8"), DistanceMetric.L2, P);
    assertThat(meanSquaredError(model, x, n)).isLessThan(1e-10);
  }

  @Test
  void opqDoesNotIncreaseErrorOnCorrelatedData() {
    int n = 3000;
    int d = 16;
    float[] x = TestData.correlated(n, d, 11);
    QuantizerModel pq = QuantizerTrainer.train(x, n, d, IndexSpec.parse("IVF4,PQ4x6"), DistanceMetric.L2, P);
    QuantizerModel opq = QuantizerTrainer.train(x, n, d, IndexSpec.parse("OPQ4,IVF4,PQ4x6"), DistanceMetric.L2, P);
    double ePq = meanSquaredError(pq, x, n);
    double eOpq = meanSquaredError(opq, x, n);
    assertThat(eOpq).isLessThanOrEqualTo(ePq);
    // and on this data the gain is substantial
    assertThat(eOpq).isLessThan(0.9 * ePq);
    // the rotation is orthogonal
    float[] r = opq.rotation();
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        float dot = VectorMath.dot(r, i * d, r, j * d, d);
        assertThat(dot).isCloseTo(i == j ? 1f : 0f, within(1e-4f));
      }
    }
    // OPQ iterations decrease the PQ error it sees
    List<Double> iters = opq.info().metrics().entrySet().stream()
        .filter(e -> e.getKey().startsWith("opq.mse.iter")).map(e -> e.getValue()).toList();
    assertThat(iters).hasSize(P.opqIterations());
    assertThat(iters.get(iters.size() - 1)).isLessThan(iters.get(0));
  }

  @ParameterizedTest
  @ValueSource(strings = {"IVF16,PQ8x8", "OPQ8,IVF16,PQ8x8", "IVF16,PQ8x4", "IVF16,Flat", "PQ8x8"})
  void nprobeEqualToNlistGivesExactlyExhaustiveAdc(String specText) {
    int n = 3000;
    int d = 16;
    float[] x = TestData.clustered(n, d, 30, 0.4f, 5);
    for (DistanceMetric metric : DistanceMetric.values()) {
      QuantizerModel model = QuantizerTrainer.train(x, n, d, IndexSpec.parse(specText), metric, P);
      ArrayInvertedLists lists = ArrayInvertedLists.build(model, x, n);
      IvfPqSearcher searcher = new IvfPqSearcher(model);
      float[] queries = TestData.clustered(20, d, 30, 0.4f, 5);
      for (int q = 0; q < 20; q++) {
        float[] query = TestData.row(queries, d, q);
        List<Neighbor> probed = searcher.search(query, 50, model.nlist(), lists);
        List<Neighbor> exhaustive = searcher.searchExhaustive(query, 50, lists);
        assertThat(probed).isEqualTo(exhaustive).hasSize(50);
        // the ADC score equals the score of the decoded vector (up to float rounding)
        float[] xt = model.preTransform(query);
        for (Neighbor hit : exhaustive.subList(0, 5)) {
          QuantizerModel.Encoded e = model.encodeVector(TestData.row(x, d, hit.id()));
          float[] rec = model.decode(e.list(), e.code(), 0);
          float expected = metric == DistanceMetric.IP ? VectorMath.dot(xt, rec) : -VectorMath.l2sq(xt, rec);
          assertThat(hit.score()).isCloseTo(expected, within(1e-3f * (1 + Math.abs(expected))));
        }
        // fewer probes can only return a subset of candidates: scores never exceed the exhaustive top-1
        assertThat(searcher.search(query, 1, 1, lists).get(0).score())
            .isLessThanOrEqualTo(exhaustive.get(0).score());
      }
    }
  }

  @Test
  void adcRecallIsHighOnClusteredData() {
    int n = 5000;
    int d = 32;
    float[] x = TestData.clustered(n, d, 50, 0.5f, 9);
    QuantizerModel model = QuantizerTrainer.train(x, n, d, IndexSpec.parse("IVF32,PQ16x8"), DistanceMetric.L2, P);
    ArrayInvertedLists lists = ArrayInvertedLists.build(model, x, n);
    IvfPqSearcher searcher = new IvfPqSearcher(model);
    int hits = 0;
    int queries = 50;
    for (int q = 0; q < queries; q++) {
      int target = q * 37;
      float[] query = TestData.row(x, d, target);
      // the query is a database vector: it must be in its own top 10 with nprobe 8
      if (searcher.search(query, 10, 8, lists).stream().anyMatch(h -> h.id() == target)) {
        hits++;
      }
    }
    assertThat(hits).isGreaterThanOrEqualTo(45);
  }

  @Test
  void sameSeedGivesIdenticalModelsAndCodes() {
    int n = 2000;
    int d = 16;
    float[] x = TestData.correlated(n, d, 2);
    IndexSpec spec = IndexSpec.parse("OPQ4,IVF8,PQ4x8");
    QuantizerModel a = QuantizerTrainer.train(x, n, d, spec, DistanceMetric.IP, P);
    QuantizerModel b = QuantizerTrainer.train(x.clone(), n, d, spec, DistanceMetric.IP, P);
    assertThat(QuantizerFormat.toBytes(a)).isEqualTo(QuantizerFormat.toBytes(b));
    for (int i = 0; i < n; i += 97) {
      assertThat(a.encodeVector(TestData.row(x, d, i)).code()).isEqualTo(b.encodeVector(TestData.row(x, d, i)).code());
    }
    QuantizerModel c = QuantizerTrainer.train(x, n, d, spec, DistanceMetric.IP,
        new QuantizerTrainer.Params(8, 20, 1e-4, 256, 6));
    assertThat(c.codebooks()).isNotEqualTo(a.codebooks());
  }

  @Test
  void sampleIsCappedPerCentroid() {
    int n = 3000;
    int d = 8;
    float[] x = TestData.clustered(n, d, 10, 0.3f, 4);
    QuantizerModel m = QuantizerTrainer.train(x, n, d, IndexSpec.parse("IVF4,PQ2x4"), DistanceMetric.L2,
        new QuantizerTrainer.Params(1, 10, 1e-4, 100, 0));
    // cap = 100 × max(nlist 4, ksub 16)
    assertThat(m.info().sampleSize()).isEqualTo(1600);
  }

  @Test
  void fewerPointsThanCentroidsIsAClearError() {
    float[] x = TestData.clustered(100, 8, 5, 0.1f, 1);
    assertThatThrownBy(() -> QuantizerTrainer.train(x, 100, 8, IndexSpec.parse("IVF128,Flat"), DistanceMetric.L2, P))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("100 training vectors for nlist = 128");
    assertThatThrownBy(() -> QuantizerTrainer.train(x, 100, 8, IndexSpec.parse("IVF4,PQ2x8"), DistanceMetric.L2, P))
        .hasMessageContaining("100 training vectors for 2^nbits = 256 PQ centroids");
  }

  @Test
  void duplicateAndZeroVectorsAreHandled() {
    // documented rule: duplicates may produce duplicate centroids; encoding stays deterministic and exact
    int n = 600;
    int d = 8;
    float[] x = new float[n * d];
    float[] distinct = TestData.clustered(3, d, 3, 1f, 2);
    for (int i = 0; i < n; i++) {
      if (i % 3 != 2) { // every third vector stays the zero vector
        System.arraycopy(distinct, (i % 3) * d, x, i * d, d);
      }
    }
    QuantizerModel model = QuantizerTrainer.train(x, n, d, IndexSpec.parse("IVF4,PQ2x8"), DistanceMetric.IP, P);
    assertThat(meanSquaredError(model, x, n)).isLessThan(1e-10);
    ArrayInvertedLists lists = ArrayInvertedLists.build(model, x, n);
    List<Neighbor> hits = new IvfPqSearcher(model).search(new float[d], 5, 4, lists);
    assertThat(hits).hasSize(5).allSatisfy(h -> assertThat(h.score()).isFinite());
  }

  @Test
  void nonFiniteInputNamesTheRow() {
    float[] x = TestData.clustered(300, 4, 5, 0.1f, 1);
    x[4 * 17 + 2] = Float.NaN;
    assertThatThrownBy(() -> QuantizerTrainer.train(x, 300, 4, IndexSpec.parse("IVF4,Flat"), DistanceMetric.L2, P))
        .hasMessageContaining("training vector 17").hasMessageContaining("dimension 2");
  }

  @Test
  void searchChecksItsArguments() {
    float[] x = TestData.clustered(500, 8, 5, 0.1f, 1);
    QuantizerModel model = QuantizerTrainer.train(x, 500, 8, IndexSpec.parse("IVF4,PQ2x8"), DistanceMetric.L2, P);
    IvfPqSearcher s = new IvfPqSearcher(model);
    assertThatThrownBy(() -> s.search(new float[8], 10, 1, new ArrayInvertedLists(8, 2)))
        .hasMessageContaining("do not match the quantizer");
    assertThatThrownBy(() -> s.search(new float[7], 10, 1, ArrayInvertedLists.build(model, x, 500)))
        .hasMessageContaining("dimension 7");
    assertThatThrownBy(() -> s.search(new float[8], 0, 1, ArrayInvertedLists.build(model, x, 500)))
        .hasMessageContaining("k must be >= 1");
    assertThat(Arrays.stream(model.probe(new float[8], 100)).sorted().toArray()).containsExactly(0, 1, 2, 3);
  }
}
