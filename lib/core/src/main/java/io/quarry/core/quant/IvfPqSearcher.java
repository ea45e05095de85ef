package io.quarry.core.quant;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.List;

/**
 * Approximate nearest-neighbour search over {@link InvertedLists} with asymmetric distance computation (ADC, Jégou et
 * al., "Product Quantization for Nearest Neighbor Search", TPAMI 2011, section 4 / IVFADC). Thread-safe: all state is
 * per call.
 *
 * <p>Per query {@code q} (raw; the model's OPQ rotation is applied first, {@code xt = R q}):
 *
 * <ul>
 *   <li>{@link Metric#IP}: one table {@code T[m][k] = <xt_m, codeword_{m,k}>} ({@code M × ksub} floats) computed once
 *       per query; an entry of list {@code l} with sub-codes {@code c_0..c_{M−1}} scores {@code <xt, c_l> + Σ_m
 *       T[m][c_m]}, which equals {@code <xt, decode(l, code)>} up to float rounding.
 *   <li>{@link Metric#L2}: per probed list a table {@code T_l[m][k] = ||xt_m − c_{l,m} − codeword_{m,k}||²}; the
 *       score is {@code −Σ_m T_l[m][c_m]}, the negated squared distance to the reconstruction.
 *   <li>Flat: the stored float vector is scored exactly ({@code <xt, x>} or {@code −||xt − x||²}).
 * </ul>
 *
 * Results are the top {@code k} by score, ties broken by lower id, so the answer does not depend on the order the
 * lists are scanned in: {@code nprobe = nlist} returns exactly {@link #searchExhaustive}.
 *
 * <p>The PQ scan ({@link AdcScan}) copies each list's codes once into a reusable array, sums the table lookups of 4
 * codes at a time and offers a candidate to the primitive top-k heap only when it can enter; every code's sum is
 * still accumulated in sub-quantizer order, so scores are bit-identical to the plain per-code loop.
 */
public final class IvfPqSearcher {
  private final QuantizerModel model;
  private final CoarseQuantizer coarse;
  private final ProductQuantizer pq;

  /** @param model the trained quantizer the lists were encoded with */
  public IvfPqSearcher(QuantizerModel model) {
    this.model = model;
    this.coarse = model.coarse();
    this.pq = model.pq();
  }

  public QuantizerModel model() {
    return model;
  }

  /**
   * A query transformed and probed once, to be scanned against any number of shards' {@link InvertedLists}
   * (the per-query work that does not depend on the lists).
   *
   * @param xt the transformed query {@code R q} ({@code d} floats)
   * @param probes lists to scan, best first ({@link CoarseQuantizer#probe})
   * @param ipTable the inner-product ADC table ({@code M × ksub}) for {@link Metric#IP} PQ models; null otherwise
   */
  public record PreparedQuery(float[] xt, int[] probes, float[] ipTable) {}

  /**
   * Rotates and probes a raw query once: {@code xt = R q}, the {@code min(nprobe, nlist)} nearest lists, and for
   * inner-product PQ the ADC table.
   *
   * @param query raw query {@code d}-vector
   * @param nprobe lists to scan, ≥ 1, clamped to {@code nlist}
   * @throws IllegalArgumentException on a dimension mismatch or {@code nprobe < 1}
   */
  public PreparedQuery prepare(float[] query, int nprobe) {
    float[] xt = model.preTransform(query);
    return prepared(xt, coarse.probe(xt, nprobe));
  }

  /** {@link #prepare} scanning every list in list-id order (exhaustive ADC). */
  public PreparedQuery prepareExhaustive(float[] query) {
    float[] xt = model.preTransform(query);
    int[] all = new int[model.nlist()];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    return prepared(xt, all);
  }

  private PreparedQuery prepared(float[] xt, int[] probes) {
    float[] table = null;
    if (pq != null && model.metric() == Metric.IP) {
      table = new float[pq.m() * pq.ksub()];
      pq.innerProductTable(xt, table);
    }
    return new PreparedQuery(xt, probes, table);
  }

  /**
   * Top-{@code k} search scanning the {@code nprobe} lists whose centroids are nearest to the query.
   *
   * @param query raw query {@code d}-vector (not pre-transformed)
   * @param k hits to return (fewer when the scanned lists hold fewer entries)
   * @param nprobe lists to scan, clamped to {@code nlist}
   * @param lists the encoded database; must match the model's {@code nlist} and {@code codeSize}
   * @return hits, best first
   * @throws IllegalArgumentException on a dimension, k, nprobe or lists mismatch
   */
  public List<Neighbor> search(float[] query, int k, int nprobe, InvertedLists lists) {
    checkLists(lists);
    return search(prepare(query, nprobe), k, lists);
  }

  /** Exhaustive ADC: scans every list in list-id order. Same arguments as {@link #search}. */
  public List<Neighbor> searchExhaustive(float[] query, int k, InvertedLists lists) {
    checkLists(lists);
    return search(prepareExhaustive(query), k, lists);
  }

  /**
   * Top-{@code k} of one shard's lists for a query already transformed and probed by {@link #prepare} (call
   * {@code prepare} once per query and this once per shard). Same results as {@link #search(float[], int, int,
   * InvertedLists)} with the same query and nprobe.
   *
   * @throws IllegalArgumentException when the lists do not match the model
   */
  public List<Neighbor> search(PreparedQuery q, int k, InvertedLists lists) {
    checkLists(lists);
    return scan(q, k, lists);
  }

  private void checkLists(InvertedLists lists) {
    if (lists.nlist() != model.nlist() || lists.codeSize() != model.codeSize()) {
      throw new IllegalArgumentException("inverted lists (nlist=" + lists.nlist() + ", codeSize=" + lists.codeSize()
          + ") do not match the quantizer (nlist=" + model.nlist() + ", codeSize=" + model.codeSize() + ")");
    }
  }

  private List<Neighbor> scan(PreparedQuery q, int k, InvertedLists lists) {
    TopK top = new TopK(k);
    float[] xt = q.xt();
    int d = model.dim();
    if (pq == null) {
      float[] x = new float[d];
      for (int list : q.probes()) {
        scanFlat(xt, x, list, lists, top);
      }
      return top.result();
    }
    int largest = 0;
    for (int list : q.probes()) {
      largest = Math.max(largest, lists.size(list));
    }
    AdcScan adc = new AdcScan(pq.m(), pq.nbits(), pq.codeSize(), largest);
    if (model.metric() == Metric.IP) {
      float[] table = q.ipTable();
      for (int list : q.probes()) {
        int n = lists.size(list);
        if (n > 0) {
          adc.scanList(lists.codes(list), lists.ids(list), n, table, coarse.dot(xt, list), 1f, top);
        }
      }
    } else {
      float[] table = new float[pq.m() * pq.ksub()];
      float[] r = new float[d];
      int[] one = new int[1];
      for (int list : q.probes()) {
        int n = lists.size(list);
        if (n == 0) {
          continue;
        }
        one[0] = list;
        coarse.residuals(xt, 1, one, r);
        pq.l2Table(r, table);
        adc.scanList(lists.codes(list), lists.ids(list), n, table, 0f, -1f, top);
      }
    }
    return top.result();
  }

  private void scanFlat(float[] xt, float[] x, int list, InvertedLists lists, TopK top) {
    int n = lists.size(list);
    if (n == 0) {
      return;
    }
    FloatBuffer codes = lists.codes(list).duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    IntBuffer ids = lists.ids(list);
    int d = model.dim();
    boolean ip = model.metric() == Metric.IP;
    for (int i = 0; i < n; i++) {
      codes.get(i * d, x);
      float s = ip ? VectorMath.dot(xt, x) : -VectorMath.l2sq(xt, x);
      top.offer(ids.get(i), s);
    }
  }
}
