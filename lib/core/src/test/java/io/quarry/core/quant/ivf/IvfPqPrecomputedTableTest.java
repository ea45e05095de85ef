package io.quarry.core.quant.ivf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.Neighbor;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.TestData;
import io.quarry.core.quant.train.QuantizerTrainer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * L2 ADC with FAISS's precomputed table ({@link IvfPqSearcher}, {@code ||xt − c − r||² = ||xt − c||² + (||r||² +
 * 2<c, r>) − 2<xt, r>}) against the per-list tables ({@code precomputedTableMaxBytes = 0}, whose bits
 * {@link IvfPqSearcherAdcTest} checks against a plain reference scan): the same top-k ids in the same order, and every
 * score within {@link #TOLERANCE} relative to the largest squared distance of the query's hits (the expansion cancels
 * a few ulps of {@code ||xt − c||²}). With and without OPQ (the decomposition holds in the rotated space), nbits 8 and
 * sub-byte codes, heap and direct lists.
 */
class IvfPqPrecomputedTableTest {
  private static final int D = 24;
  /** Relative tolerance on scores: |Δ| ≤ 1e-5 × max(1, |largest score of the query's hits|). */
  static final float TOLERANCE = 1e-5f;

  private static QuantizerModel trained(String spec) {
    float[] x = TestData.clustered(3000, D, 40, 0.3f, 5);
    return QuantizerTrainer.train(x, 3000, D, IndexSpec.parse(spec), DistanceMetric.L2,
        new QuantizerTrainer.Params(7, 6, 1e-4, 256, 1));
  }

  @Test
  void precomputedTableGivesThePerListResults() {
    String[] specs = {"IVF16,PQ8x8", "OPQ8,IVF16,PQ8x8", "IVF16,PQ6x8", "IVF8,PQ3x8", "PQ12x8", "IVF16,PQ8x4",
        "IVF16,PQ12x6", "OPQ6,IVF8,PQ6x4"};
    float[] x = TestData.clustered(1003, D, 40, 0.3f, 9);
    float[] queries = TestData.clustered(20, D, 40, 0.3f, 10);
    float worst = 0f;
    for (String spec : specs) {
      QuantizerModel model = trained(spec);
      ArrayInvertedLists heap = ArrayInvertedLists.build(model, x, 1003);
      InvertedLists off = IvfPqSearcherAdcTest.direct(heap);
      IvfPqSearcher pre = new IvfPqSearcher(model);
      IvfPqSearcher perList = new IvfPqSearcher(model, 0);
      assertThat(pre.usesPrecomputedTable()).as(spec).isTrue();
      assertThat(pre.precomputedTableBytes()).isEqualTo(4L * model.nlist() * model.m() * model.ksub());
      assertThat(perList.usesPrecomputedTable()).isFalse();
      for (int q = 0; q < 20; q++) {
        float[] query = TestData.row(queries, D, q);
        for (int nprobe : new int[] {1, 4, model.nlist()}) {
          List<Neighbor> want = perList.search(query, 50, nprobe, heap);
          for (List<Neighbor> got : List.of(pre.search(query, 50, nprobe, heap),
              pre.search(pre.prepare(query, nprobe), 50, off),
              // a query prepared without the IP table (by the per-list searcher) is completed by the scan
              pre.search(perList.prepare(query, nprobe), 50, heap))) {
            assertThat(got).extracting(Neighbor::id).as(spec + " q" + q)
                .containsExactlyElementsOf(want.stream().map(Neighbor::id).toList());
            float scale = Math.max(1f, Math.abs(want.get(want.size() - 1).score()));
            for (int i = 0; i < got.size(); i++) {
              float diff = Math.abs(got.get(i).score() - want.get(i).score());
              worst = Math.max(worst, diff / scale);
              assertThat(diff).as("%s q%d hit %d", spec, q, i).isLessThanOrEqualTo(TOLERANCE * scale);
            }
          }
        }
      }
    }
    System.out.println("precomputed vs per-list L2 tables: largest relative score difference " + worst);
  }

  @Test
  void capDecidesBetweenPrecomputedAndPerListTables() {
    QuantizerModel model = trained("IVF16,PQ8x8");
    long bytes = 4L * 16 * 8 * 256;
    assertThat(new IvfPqSearcher(model, bytes).usesPrecomputedTable()).isTrue();
    assertThat(new IvfPqSearcher(model, bytes - 1).usesPrecomputedTable()).isFalse();
    assertThat(new IvfPqSearcher(model, bytes - 1).precomputedTableBytes()).isZero();
    assertThatThrownBy(() -> new IvfPqSearcher(model, -1)).isInstanceOf(IllegalArgumentException.class);
    // inner product and Flat never build one
    float[] x = TestData.clustered(3000, D, 40, 0.3f, 5);
    QuantizerModel ip = QuantizerTrainer.train(x, 3000, D, IndexSpec.parse("IVF16,PQ8x8"), DistanceMetric.IP,
        new QuantizerTrainer.Params(7, 6, 1e-4, 256, 1));
    assertThat(new IvfPqSearcher(ip).usesPrecomputedTable()).isFalse();
    QuantizerModel flat = trained("IVF16,Flat");
    assertThat(new IvfPqSearcher(flat).usesPrecomputedTable()).isFalse();
  }
}
