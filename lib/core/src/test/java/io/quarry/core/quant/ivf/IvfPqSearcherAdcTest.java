package io.quarry.core.quant.ivf;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.Neighbor;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.TestData;
import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.component.PqCodes;
import io.quarry.core.quant.component.ProductQuantizer;
import io.quarry.core.quant.kernel.L2Kernel;
import io.quarry.core.quant.kernel.VectorMath;
import io.quarry.core.quant.train.QuantizerTrainer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fast ADC scan of {@link IvfPqSearcher} ({@link AdcScan}) against a straightforward reference scan kept here:
 * per probed list, per entry, {@code s = 0; for j in 0..M−1: s += table[j·ksub + subcode_j]}, score {@code base + sign
 * × s}, all candidates sorted by (score desc, id asc), first k.
 *
 * <p>Tolerance: none. The fast scan (scalar or Vector API) accumulates every code's sum in the same sub-quantizer order
 * from {@code 0f}, so ids must be identical in the same order and scores bit-identical ({@link Float#floatToIntBits}
 * equal). L2 searchers here use per-list tables ({@code precomputedTableMaxBytes = 0}), the reference's tables.
 */
class IvfPqSearcherAdcTest {
  private static final int D = 24;

  private static QuantizerModel trained(String spec, DistanceMetric metric) {
    float[] x = TestData.clustered(3000, D, 40, 0.3f, 5);
    return QuantizerTrainer.train(x, 3000, D, IndexSpec.parse(spec), metric,
        new QuantizerTrainer.Params(7, 6, 1e-4, 256, 1));
  }

  /** The reference: tables entry by entry with VectorMath, one code at a time, PqCodes unpacking, a full sort. */
  static List<Neighbor> reference(QuantizerModel model, float[] query, int k, int[] probes, InvertedLists lists) {
    float[] xt = model.preTransform(query);
    List<Neighbor> all = new ArrayList<>();
    ProductQuantizer pq = model.pq();
    for (int list : probes) {
      int n = lists.size(list);
      ByteBuffer codes = lists.codes(list);
      IntBuffer ids = lists.ids(list);
      if (pq == null) {
        FloatBuffer fb = codes.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        for (int i = 0; i < n; i++) {
          float[] x = new float[D];
          fb.get(i * D, x);
          float s = model.metric() == DistanceMetric.IP ? VectorMath.dot(xt, x) : -VectorMath.l2sq(xt, x);
          all.add(new Neighbor(ids.get(i), s));
        }
        continue;
      }
      float[] table = new float[pq.m() * pq.ksub()];
      float base;
      float sign;
      float[] books = pq.codebooks();
      int dsub = pq.dsub();
      if (model.metric() == DistanceMetric.IP) {
        for (int t = 0; t < table.length; t++) {
          table[t] = VectorMath.dot(xt, (t / pq.ksub()) * dsub, books, t * dsub, dsub);
        }
        base = model.centroidDot(xt, list);
        sign = 1f;
      } else {
        float[] r = new float[D];
        model.coarse().residuals(xt, 1, new int[] {list}, r);
        for (int t = 0; t < table.length; t++) {
          table[t] = VectorMath.l2sq(r, (t / pq.ksub()) * dsub, books, t * dsub, dsub);
        }
        base = 0f;
        sign = -1f;
      }
      byte[] code = new byte[pq.codeSize()];
      for (int i = 0; i < n; i++) {
        codes.get(i * pq.codeSize(), code, 0, code.length);
        float s = 0;
        for (int j = 0; j < pq.m(); j++) {
          s += table[j * pq.ksub() + PqCodes.get(code, 0, j, pq.nbits())];
        }
        all.add(new Neighbor(ids.get(i), base + sign * s));
      }
    }
    all.sort(Comparator.comparing(Neighbor::score, Comparator.reverseOrder()).thenComparingInt(Neighbor::id));
    return all.subList(0, Math.min(k, all.size()));
  }

  private static void assertSame(List<Neighbor> got, List<Neighbor> want) {
    assertThat(got).extracting(Neighbor::id).containsExactlyElementsOf(want.stream().map(Neighbor::id).toList());
    for (int i = 0; i < got.size(); i++) {
      assertThat(Float.floatToIntBits(got.get(i).score()))
          .as("score bits of hit %d (%s vs %s)", i, got.get(i), want.get(i))
          .isEqualTo(Float.floatToIntBits(want.get(i).score()));
    }
  }

  /** The lists copied into direct (off-heap, as memory-mapped) buffers that are slices at a non-zero offset. */
  static InvertedLists direct(InvertedLists src) {
    int nlist = src.nlist();
    ByteBuffer[] codes = new ByteBuffer[nlist];
    IntBuffer[] ids = new IntBuffer[nlist];
    for (int l = 0; l < nlist; l++) {
      int n = src.size(l);
      ByteBuffer c = ByteBuffer.allocateDirect(7 + n * src.codeSize());
      c.position(7);
      c.put(src.codes(l).duplicate());
      codes[l] = c.position(7).slice();
      ByteBuffer ib = ByteBuffer.allocateDirect(4 + 4 * n).order(ByteOrder.LITTLE_ENDIAN);
      IntBuffer srcIds = src.ids(l);
      for (int i = 0; i < n; i++) {
        ib.putInt(4 + 4 * i, srcIds.get(i));
      }
      ids[l] = ib.position(4).slice().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
    }
    return new InvertedLists() {
      @Override
      public int nlist() {
        return nlist;
      }

      @Override
      public int codeSize() {
        return src.codeSize();
      }

      @Override
      public int size(int list) {
        return src.size(list);
      }

      @Override
      public ByteBuffer codes(int list) {
        return codes[list].duplicate();
      }

      @Override
      public IntBuffer ids(int list) {
        return ids[list].duplicate();
      }
    };
  }

  @Test
  void fastScanEqualsReferenceForEveryMetricAndCodeWidth() {
    // M % 4 in {0, 1, 2, 3} (the unrolled loop's tails), nbits 8, 4 (odd M: a half-used last byte), 6 and 5
    // (sub-codes straddling bytes), 2, and Flat
    String[] specs = {"IVF16,PQ8x8", "IVF16,PQ6x8", "IVF8,PQ3x8", "PQ12x8", "IVF16,PQ8x4", "IVF16,PQ3x4",
        "IVF16,PQ12x6", "IVF8,PQ24x5", "IVF8,PQ4x2", "IVF16,Flat"};
    float[] x = TestData.clustered(1003, D, 40, 0.3f, 9);
    float[] queries = TestData.clustered(12, D, 40, 0.3f, 10);
    for (String spec : specs) {
      for (DistanceMetric metric : DistanceMetric.values()) {
        QuantizerModel model = trained(spec, metric);
        ArrayInvertedLists heap = ArrayInvertedLists.build(model, x, 1003);
        InvertedLists off = direct(heap);
        // per-list L2 tables (precomputed table off): the reference's tables, so bit-identical; the precomputed
        // table is checked against this path in IvfPqPrecomputedTableTest
        IvfPqSearcher s = new IvfPqSearcher(model, 0);
        for (int q = 0; q < 12; q++) {
          float[] query = TestData.row(queries, D, q);
          for (int k : new int[] {1, 10, 37}) {
            for (int nprobe : new int[] {1, 3, model.nlist()}) {
              int[] probes = model.probe(model.preTransform(query), nprobe);
              List<Neighbor> want = reference(model, query, k, probes, heap);
              assertSame(s.search(query, k, nprobe, heap), want);
              assertSame(s.search(s.prepare(query, nprobe), k, off), want);
            }
          }
          int[] all = new int[model.nlist()];
          for (int l = 0; l < all.length; l++) {
            all[l] = l;
          }
          assertSame(s.searchExhaustive(query, 25, heap), reference(model, query, 25, all, heap));
        }
      }
    }
  }

  @Test
  void emptyListsAndKLargerThanTheCandidatesReturnEveryCandidateInOrder() {
    for (String spec : new String[] {"IVF16,PQ8x8", "IVF16,PQ8x4", "IVF16,Flat"}) {
      QuantizerModel model = trained(spec, DistanceMetric.IP);
      float[] x = TestData.clustered(5, D, 40, 0.3f, 21);
      ArrayInvertedLists lists = ArrayInvertedLists.build(model, x, 5);
      IvfPqSearcher s = new IvfPqSearcher(model);
      float[] query = TestData.row(x, D, 0);
      List<Neighbor> hits = s.searchExhaustive(query, 100, lists);
      assertThat(hits).hasSize(5);
      assertThat(hits).extracting(Neighbor::id).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
      int[] all = new int[16];
      for (int l = 0; l < 16; l++) {
        all[l] = l;
      }
      assertSame(hits, reference(model, query, 100, all, lists));
      // nothing at all in the probed lists
      ArrayInvertedLists empty = new ArrayInvertedLists(model.nlist(), model.codeSize());
      assertThat(s.search(query, 10, 4, empty)).isEmpty();
      assertThat(s.searchExhaustive(query, 10, direct(empty))).isEmpty();
    }
  }

  @Test
  void tiedScoresAreOrderedByIdWhateverTheScanOrder() {
    for (String spec : new String[] {"IVF16,PQ8x8", "IVF16,PQ3x4"}) {
      for (DistanceMetric metric : DistanceMetric.values()) {
        QuantizerModel model = trained(spec, metric);
        float[] x = TestData.clustered(60, D, 40, 0.3f, 31);
        QuantizerModel.EncodedBatch b = model.encodeBatch(x, 60);
        // every code three times with ids inserted out of order: 2000+i, i, 1000+i (equal codes ⇒ equal scores)
        ArrayInvertedLists lists = new ArrayInvertedLists(model.nlist(), model.codeSize());
        for (int i = 59; i >= 0; i--) {
          lists.add(b.lists()[i], 2000 + i, b.codes(), i * model.codeSize());
          lists.add(b.lists()[i], i, b.codes(), i * model.codeSize());
          lists.add(b.lists()[i], 1000 + i, b.codes(), i * model.codeSize());
        }
        IvfPqSearcher s = new IvfPqSearcher(model, 0);
        for (int q = 0; q < 10; q++) {
          float[] query = TestData.row(x, D, q * 6);
          int[] all = new int[model.nlist()];
          for (int l = 0; l < all.length; l++) {
            all[l] = l;
          }
          for (int k : new int[] {1, 2, 4, 50, 200}) {
            List<Neighbor> hits = s.searchExhaustive(query, k, lists);
            assertSame(hits, reference(model, query, k, all, lists));
            for (int i = 1; i < hits.size(); i++) {
              Neighbor a = hits.get(i - 1);
              Neighbor c = hits.get(i);
              assertThat(a.score() > c.score() || (a.score() == c.score() && a.id() < c.id())).isTrue();
            }
          }
          // the three copies of an entry tie, so they come out in id order i, 1000+i, 2000+i with one score
          List<Neighbor> hits = s.searchExhaustive(query, 180, lists);
          List<Integer> ids = hits.stream().map(Neighbor::id).toList();
          for (int i = 0; i < 60; i++) {
            int a = ids.indexOf(i);
            int b1 = ids.indexOf(1000 + i);
            int c = ids.indexOf(2000 + i);
            assertThat(a).isLessThan(b1);
            assertThat(b1).isLessThan(c);
            assertThat(hits.get(a).score()).isEqualTo(hits.get(c).score());
          }
        }
      }
    }
  }

  @Test
  void adcTablesAreBitIdenticalToVectorMathForEverySubDimension() {
    java.util.Random rnd = new java.util.Random(4);
    for (int dsub : new int[] {1, 2, 3, 4, 5, 7, 8, 9, 16}) {
      for (int nbits : new int[] {4, 8}) {
        int m = 3;
        int ksub = 1 << nbits;
        float[] books = new float[m * ksub * dsub];
        for (int i = 0; i < books.length; i++) {
          books[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(5) - 2));
        }
        float[] x = new float[m * dsub];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) rnd.nextGaussian();
        }
        ProductQuantizer pq = new ProductQuantizer(m, nbits, dsub, books);
        float[] ip = new float[m * ksub];
        float[] l2 = new float[m * ksub];
        pq.innerProductTable(x, ip);
        pq.l2Table(x, l2);
        for (int t = 0; t < m * ksub; t++) {
          int xo = (t / ksub) * dsub;
          assertThat(Float.floatToIntBits(ip[t])).isEqualTo(Float.floatToIntBits(VectorMath.dot(x, xo, books,
              t * dsub, dsub)));
          assertThat(Float.floatToIntBits(l2[t])).isEqualTo(Float.floatToIntBits(VectorMath.l2sq(x, xo, books,
              t * dsub, dsub)));
        }
      }
    }
  }

  @Test
  void probeOrdersListsByDistanceThenIdLikeAComparatorSort() {
    java.util.Random rnd = new java.util.Random(6);
    int d = 4;
    int nlist = 300;
    float[] c = new float[nlist * d];
    for (int l = 0; l < nlist; l++) {
      // many duplicated centroids (tied distances), some far away, some at the origin
      int src = l % 7 == 3 ? (l / 2) : l;
      for (int t = 0; t < d; t++) {
        c[l * d + t] = src < l ? c[src * d + t] : l % 11 == 0 ? 0f : (float) (rnd.nextGaussian() * (l % 5 + 1));
      }
    }
    CoarseQuantizer cq = CoarseQuantizer.ivf(c, nlist, d);
    for (int q = 0; q < 30; q++) {
      float[] xt = new float[d];
      for (int t = 0; t < d; t++) {
        xt[t] = q == 0 ? 0f : (float) rnd.nextGaussian();
      }
      float[] dist = new float[nlist];
      L2Kernel.distances(xt, 0, c, L2Kernel.norms(c, 0, nlist, d), nlist, d, dist);
      Integer[] order = new Integer[nlist];
      for (int l = 0; l < nlist; l++) {
        order[l] = l;
      }
      java.util.Arrays.sort(order, (a, b) -> {
        int cmp = Float.compare(dist[a], dist[b]);
        return cmp != 0 ? cmp : Integer.compare(a, b);
      });
      for (int nprobe : new int[] {2, 16, nlist}) {
        int[] want = new int[nprobe];
        for (int i = 0; i < nprobe; i++) {
          want[i] = order[i];
        }
        assertThat(cq.probe(xt, nprobe)).containsExactly(want);
      }
    }
  }

  @Test
  void sumsKernelIsBitIdenticalToTheSequentialLoop() {
    java.util.Random rnd = new java.util.Random(3);
    for (int m : new int[] {1, 2, 3, 4, 5, 7, 8, 48}) {
      for (int n : new int[] {0, 1, 3, 4, 5, 9, 64}) {
        int ksub = 16;
        float[] table = new float[m * ksub];
        for (int i = 0; i < table.length; i++) {
          table[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(7) - 3));
        }
        byte[] c = new byte[n * m];
        for (int i = 0; i < c.length; i++) {
          c[i] = (byte) rnd.nextInt(ksub);
        }
        float[] out = new float[n];
        AdcScan.sums(c, 0, n, m, ksub, table, out);
        for (int i = 0; i < n; i++) {
          float s = 0;
          for (int j = 0; j < m; j++) {
            s += table[j * ksub + c[i * m + j]];
          }
          assertThat(Float.floatToIntBits(out[i])).isEqualTo(Float.floatToIntBits(s));
        }
      }
    }
  }
}
