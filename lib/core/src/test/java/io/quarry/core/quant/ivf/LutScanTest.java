package io.quarry.core.quant.ivf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.Neighbor;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.TestData;
import io.quarry.core.quant.train.QuantizerTrainer;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The quantized-table scan ({@link LutScan}) against the plain ADC scan ({@link AdcScan}): same ids in the same order,
 * bit-identical scores, for every k, nprobe, list size (block padding), duplicate codes (ties) and a list changed after
 * it was searched; and that it does prune. Runs on whatever vector width the JVM picks (AVX-512 here; Maven also runs
 * this class with {@code -XX:UseAVX=2}, the 256-bit kernel).
 */
class LutScanTest {
  private static final int D = 32;

  @BeforeAll
  static void vectorApi() {
    assumeTrue(LutScan.AVAILABLE, "needs the Vector API with at least 256-bit vectors");
  }

  private static final long TABLE = IvfPqSearcher.DEFAULT_PRECOMPUTED_TABLE_MAX_BYTES;

  private static QuantizerModel trained(String spec, DistanceMetric metric, float[] x, int n) {
    return QuantizerTrainer.train(x, n, D, IndexSpec.parse(spec), metric, new QuantizerTrainer.Params(3, 6, 1e-4,
        256, 1));
  }

  private static void assertSame(List<Neighbor> got, List<Neighbor> want, String what) {
    assertThat(got).as(what).extracting(Neighbor::id)
        .containsExactlyElementsOf(want.stream().map(Neighbor::id).toList());
    for (int i = 0; i < got.size(); i++) {
      assertThat(Float.floatToIntBits(got.get(i).score())).as("%s: score bits of hit %d", what, i)
          .isEqualTo(Float.floatToIntBits(want.get(i).score()));
    }
  }

  @Test
  void sameResultsAsThePlainScanForEveryMetricKAndNprobe() {
    int n = 6000;
    float[] x = TestData.clustered(n, D, 60, 0.3f, 31);
    float[] queries = TestData.clustered(20, D, 60, 0.3f, 32);
    for (String spec : new String[] {"IVF32,PQ8x8", "IVF16,PQ16x8", "IVF8,PQ2x8", "OPQ4,IVF16,PQ4x8", "PQ8x8"}) {
      for (DistanceMetric metric : DistanceMetric.values()) {
        QuantizerModel model = trained(spec, metric, x, n);
        ArrayInvertedLists lists = ArrayInvertedLists.build(model, x, n);
        IvfPqSearcher lut = new IvfPqSearcher(model, TABLE, true);
        IvfPqSearcher plain = new IvfPqSearcher(model, TABLE, false);
        for (int q = 0; q < 20; q++) {
          float[] query = TestData.row(queries, D, q);
          for (int nprobe : new int[] {1, 4, model.nlist()}) {
            IvfPqSearcher.PreparedQuery pq = lut.prepare(query, nprobe);
            assertThat(pq.lut()).as("quantized table").isNotNull();
            for (int k : new int[] {1, 10, 100, 1000, n + 1}) {
              assertSame(lut.search(pq, k, lists), plain.search(plain.prepare(query, nprobe), k, lists),
                  spec + " " + metric + " q" + q + " nprobe " + nprobe + " k " + k);
            }
          }
        }
      }
    }
  }

  @Test
  void pruneMostCodesOnClusteredData() {
    int n = 20000;
    float[] x = TestData.clustered(n, D, 100, 0.3f, 41);
    float[] queries = TestData.clustered(10, D, 100, 0.3f, 42);
    for (DistanceMetric metric : DistanceMetric.values()) {
      QuantizerModel model = trained("IVF16,PQ16x8", metric, x, n);
      ArrayInvertedLists lists = ArrayInvertedLists.build(model, x, n);
      IvfPqSearcher searcher = new IvfPqSearcher(model, TABLE, true);
      long scored = 0;
      long scanned = 0;
      for (int q = 0; q < 10; q++) {
        IvfPqSearcher.PreparedQuery pq = searcher.prepare(TestData.row(queries, D, q), 4);
        for (int list : pq.probes()) {
          scanned += lists.size(list);
        }
        int s = searcher.lutScan(pq, lists, new TopK(10));
        assertThat(s).as(metric.name()).isGreaterThanOrEqualTo(10);
        scored += s;
      }
      assertThat((double) scored / scanned).as("%s: share of scanned codes scored exactly", metric).isLessThan(0.25);
    }
  }

  @Test
  void duplicateCodesTieAndAreCutByIdAsThePlainScanCutsThem() {
    int distinct = 50;
    int n = 3000;
    float[] base = TestData.clustered(distinct, D, 10, 0.3f, 51);
    float[] x = new float[n * D];
    for (int i = 0; i < n; i++) {
      System.arraycopy(base, (i % distinct) * D, x, i * D, D);
    }
    for (DistanceMetric metric : DistanceMetric.values()) {
      QuantizerModel model = trained("IVF4,PQ8x8", metric, TestData.clustered(1000, D, 10, 0.3f, 52), 1000);
      ArrayInvertedLists lists = ArrayInvertedLists.build(model, x, n);
      IvfPqSearcher lut = new IvfPqSearcher(model, TABLE, true);
      IvfPqSearcher plain = new IvfPqSearcher(model, TABLE, false);
      for (int q = 0; q < 5; q++) {
        float[] query = TestData.row(base, D, q);
        for (int k : new int[] {7, 60, 61, 500}) {
          assertSame(lut.search(query, k, 2, lists), plain.search(query, k, 2, lists), metric + " q" + q + " k " + k);
        }
      }
    }
  }

  @Test
  void aListChangedAfterASearchIsScannedWithItsNewCodes() {
    int n = 700;
    float[] x = TestData.clustered(n, D, 20, 0.3f, 61);
    for (DistanceMetric metric : DistanceMetric.values()) {
      QuantizerModel model = trained("IVF4,PQ8x8", metric, x, n);
      ArrayInvertedLists lists = ArrayInvertedLists.build(model, java.util.Arrays.copyOf(x, 500 * D), 500);
      IvfPqSearcher lut = new IvfPqSearcher(model, TABLE, true);
      IvfPqSearcher plain = new IvfPqSearcher(model, TABLE, false);
      // one entry at a time, searching for it after each: most adds stay inside the list's last block, so the blocked
      // codes (and for L2 the cached code terms) must follow the list, not just its block count
      for (int i = 500; i < n; i++) {
        float[] query = TestData.row(x, D, i);
        assertSame(lut.search(query, 10, 4, lists), plain.search(query, 10, 4, lists), metric + " before " + i);
        lists.add(model, i, query);
        List<Neighbor> after = lut.search(query, 10, 4, lists);
        assertSame(after, plain.search(query, 10, 4, lists), metric + " after adding " + i);
        if (metric == DistanceMetric.L2) { // its own nearest neighbour (with inner product, longer vectors can beat it)
          assertThat(after).extracting(Neighbor::id).as("after adding " + i).contains(i);
        }
      }
    }
  }

  @Test
  void blockedLayoutHoldsEverySubCodeAndPadsWithZero() {
    Random rnd = new Random(7);
    for (int n : new int[] {0, 1, 63, 64, 65, 200}) {
      int m = 12;
      byte[] rows = new byte[n * m];
      rnd.nextBytes(rows);
      BlockedCodes b = BlockedCodes.of(ByteBuffer.wrap(rows), n, m);
      assertThat(b.size()).isEqualTo(n);
      assertThat(b.data()).hasSize(BlockedCodes.blocks(n) * 64 * m);
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++) {
          assertThat(b.subCode(i, j)).isEqualTo(rows[i * m + j] & 0xFF);
        }
      }
      for (int i = n; i < BlockedCodes.blocks(n) * 64; i++) {
        for (int j = 0; j < m; j++) {
          assertThat(b.subCode(i, j)).isZero();
        }
      }
    }
  }

  @Test
  void quantizedTableBoundsEveryFloatSum() {
    Random rnd = new Random(11);
    int m = 16;
    for (int trial = 0; trial < 20; trial++) {
      float[] table = new float[m * 256];
      float spread = trial % 2 == 0 ? 1f : 1e4f;
      for (int i = 0; i < table.length; i++) {
        table[i] = (float) rnd.nextGaussian() * spread * (1 + (i / 256) % 3) + (trial - 10);
      }
      QuantizedLut lut = QuantizedLut.of(table, m, 256);
      double eps = lut.slack(0);
      byte[] q = lut.codes();
      for (int c = 0; c < 2000; c++) {
        float s = 0f;
        int big = 0;
        for (int j = 0; j < m; j++) {
          int code = rnd.nextInt(256);
          s += table[j * 256 + code];
          big += q[j * 256 + code] & 0xFF;
        }
        double mid = lut.sumMin() + lut.delta() * big;
        assertThat((double) s).isBetween(mid - lut.delta() * m / 2 - eps, mid + lut.delta() * m / 2 + eps);
      }
    }
  }

  @Test
  void tablesThatCannotBeQuantizedAreRefused() {
    assertThat(QuantizedLut.of(new float[4 * 256], 4, 256)).as("constant rows").isNull();
    float[] nan = new float[4 * 256];
    nan[300] = Float.NaN;
    nan[1] = 1f;
    assertThat(QuantizedLut.of(nan, 4, 256)).as("NaN").isNull();
    assertThat(QuantizedLut.of(new float[4 * 16], 4, 16)).as("4-bit").isNull();
  }
}
