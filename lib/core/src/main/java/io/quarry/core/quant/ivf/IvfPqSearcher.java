package io.quarry.core.quant.ivf;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.Neighbor;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.component.ProductQuantizer;
import io.quarry.core.quant.kernel.Simd;
import io.quarry.core.quant.kernel.VectorKernels;
import io.quarry.core.quant.kernel.VectorMath;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Approximate nearest-neighbour search over {@link InvertedLists} with asymmetric distance computation (ADC, Jégou et
 * al., "Product Quantization for Nearest Neighbor Search", TPAMI 2011, section 4 / IVFADC). Thread-safe: all state is
 * per call, except the precomputed table built once by the constructor.
 *
 * <p>Per query {@code q} (raw; the model's OPQ rotation is applied first, {@code xt = R q}; everything below holds in
 * the rotated space, where the centroids and codebooks live):
 *
 * <ul>
 *   <li>{@link DistanceMetric#IP}: one table {@code T[m][k] = <xt_m, b_{m,k}>} ({@code M × ksub} floats) computed once
 *       per query; an entry of list {@code l} with sub-codes {@code c_0..c_{M−1}} scores {@code <xt, c_l> + Σ_m
 *       T[m][c_m]}, which equals {@code <xt, decode(l, code)>} up to float rounding.
 *   <li>{@link DistanceMetric#L2} with the <b>precomputed table</b> (FAISS
 *       {@code IndexIVFPQ::use_precomputed_table = 1}, {@code faiss/IndexIVFPQ.cpp} {@code precompute_table}), the
 *       default: for a database vector {@code c_l + r} with {@code r = Σ_m b_{m,c_m}},
 *       {@code ||xt − c_l − r||² = ||xt − c_l||² + (||r||² + 2<c_l, r>) − 2<xt, r>}.
 *       With {@code r} a concatenation of sub-vectors the middle term is a sum over sub-quantizers of
 *       {@code P[l][m][k] = ||b_{m,k}||² + 2<c_{l,m}, b_{m,k}>}, computed once by the constructor ({@code nlist × M ×
 *       ksub} floats), and the last is {@code −2 T[m][k]} with the per-query inner-product table {@code T} above. Per
 *       probed list the scan table is {@code P[l] − 2T} ({@code M × ksub} additions, FAISS's {@code fvec_madd}) and
 *       the score {@code −(||xt − c_l||² + Σ_m (P[l] − 2T)[m][c_m])}. Equal to the per-list table below up to float
 *       rounding (the expansion cancels: a few ulps of {@code ||xt − c_l||²}; {@code IvfPqPrecomputedTableTest}).
 *       Above {@code precomputedTableMaxBytes} (FAISS {@code precomputed_table_max_bytes}) the searcher falls back
 *       to:
 *   <li>{@link DistanceMetric#L2}, per-list tables: per probed list {@code T_l[m][k] = ||xt_m − c_{l,m} − b_{m,k}||²}
 *       (exact differences); the score is {@code −Σ_m T_l[m][c_m]}, the negated squared distance to the
 *       reconstruction.
 *   <li>Flat: the stored float vector is scored exactly ({@code <xt, x>} or {@code −||xt − x||²}).
 * </ul>
 *
 * Results are the top {@code k} by score, ties broken by lower id, so the answer does not depend on the order the
 * lists are scanned in: {@code nprobe = nlist} returns exactly {@link #searchExhaustive}.
 *
 * <p>The PQ scan ({@link AdcScan}) sums each code's lookups in sub-quantizer order and offers a candidate to the
 * primitive top-k heap only when it can enter; scores are bit-identical to the plain per-code loop over the same
 * table. 8-bit PQ on the Vector API ({@link LutScan#AVAILABLE}; inner product, and L2 with the precomputed table)
 * first bounds every code with a byte-quantized table and scores exactly only the codes whose bound can reach the top
 * {@code k} ({@link LutScan}): the same results, bit for bit, several times faster.
 */
public final class IvfPqSearcher {
  private final QuantizerModel model;
  private final CoarseQuantizer coarse;
  private final ProductQuantizer pq;
  /** {@code P[l][m][k]} at {@code [(l·M + m)·ksub + k]} (see the class comment), or null. */
  private final float[] precomputed;
  /**
   * True when 8-bit PQ is scanned by {@link LutScan} (bound, then exact) instead of {@link AdcScan}: inner product, or
   * L2 with the precomputed table.
   */
  private final boolean lutScan;
  /** L2 with {@link #lutScan}: per list {@code Σ_m max_k |P[l][m][k]|}, else null. */
  private final float[] precomputedAbsSums;
  /**
   * L2 with {@link #lutScan}: per lists object, per list, {@link LutScan#codeTerms} with the blocked codes they were
   * computed from (built on a list's first search and again when the lists hand out new blocked codes, i.e. after the
   * list changed; 4 bytes per entry; weakly keyed, so it goes with the lists).
   */
  private final Map<InvertedLists, AtomicReferenceArray<CodeTerms>> codeTerms =
      Collections.synchronizedMap(new WeakHashMap<>());

  /** {@link LutScan#codeTerms} of {@code codes}. */
  private record CodeTerms(BlockedCodes codes, float[] terms) {}

  /**
   * Memory cap of the L2 precomputed table by default: 512 MiB ({@code nlist × M × 2^nbits × 4} bytes; e.g.
   * {@code IVF4096,PQ48x8} needs 192 MiB, {@code IVF256,PQ48x8} 12 MiB). FAISS's default cap is 2 GiB.
   */
  public static final long DEFAULT_PRECOMPUTED_TABLE_MAX_BYTES = 512L << 20;

  /**
   * A searcher with the default cap of the L2 precomputed table ({@link #DEFAULT_PRECOMPUTED_TABLE_MAX_BYTES}).
   *
   * @param model the trained quantizer the lists were encoded with
   */
  public IvfPqSearcher(QuantizerModel model) {
    this(model, DEFAULT_PRECOMPUTED_TABLE_MAX_BYTES);
  }

  /**
   * @param model the trained quantizer the lists were encoded with
   * @param precomputedTableMaxBytes for an L2 PQ model: build the precomputed table ({@code nlist × M × ksub}
   *     floats, once, here) when it takes at most this many bytes, else use per-list tables; 0 always uses per-list
   *     tables. Ignored for IP and Flat.
   * @throws IllegalArgumentException when {@code precomputedTableMaxBytes < 0}
   */
  public IvfPqSearcher(QuantizerModel model, long precomputedTableMaxBytes) {
    this(model, precomputedTableMaxBytes, LutScan.AVAILABLE);
  }

  /**
   * As above, choosing the scan of 8-bit PQ (inner product, or L2 with the precomputed table): {@code lutScan}
   * ({@link LutScan}, when {@link LutScan#AVAILABLE}) or the plain {@link AdcScan}; both return the same results
   * (tests compare them).
   */
  IvfPqSearcher(QuantizerModel model, long precomputedTableMaxBytes, boolean lutScan) {
    if (precomputedTableMaxBytes < 0) {
      throw new IllegalArgumentException("precomputedTableMaxBytes must be >= 0, got " + precomputedTableMaxBytes);
    }
    this.model = model;
    this.coarse = model.coarse();
    this.pq = model.pq();
    long floats = pq == null ? 0 : (long) model.nlist() * pq.m() * pq.ksub();
    boolean use = pq != null && model.metric() == DistanceMetric.L2 && floats * Float.BYTES <= precomputedTableMaxBytes
        && floats <= Integer.MAX_VALUE - 8;
    this.precomputed = use ? precompute(coarse, pq) : null;
    this.lutScan = lutScan && LutScan.AVAILABLE && pq != null && pq.nbits() == 8
        && (model.metric() == DistanceMetric.IP || precomputed != null);
    this.precomputedAbsSums = this.lutScan && precomputed != null ? absSums(precomputed, pq.m(), pq.ksub()) : null;
  }

  /** {@code Σ_m max_k |P[l][m][k]|} per list {@code l}. */
  private static float[] absSums(float[] p, int m, int ksub) {
    float[] out = new float[p.length / (m * ksub)];
    for (int l = 0; l < out.length; l++) {
      double sum = 0;
      for (int j = 0; j < m; j++) {
        float max = 0f;
        for (int c = (l * m + j) * ksub, end = c + ksub; c < end; c++) {
          max = Math.max(max, Math.abs(p[c]));
        }
        sum += max;
      }
      out[l] = (float) Math.min(Float.MAX_VALUE, sum * (1 + 0x1p-20)); // rounded up: it bounds
    }
    return out;
  }

  /** {@code P[l][m][k] = ||b_{m,k}||² + 2<c_{l,m}, b_{m,k}>} for every list (FAISS {@code precompute_table}). */
  private static float[] precompute(CoarseQuantizer coarse, ProductQuantizer pq) {
    int mk = pq.m() * pq.ksub();
    float[] out = new float[coarse.nlist() * mk];
    float[] norms = pq.codewordNorms();
    float[] ip = new float[mk];
    for (int l = 0; l < coarse.nlist(); l++) {
      pq.innerProductTable(coarse.centroid(l), ip);
      madd(norms, 0, 2f, ip, out, l * mk, mk);
    }
    return out;
  }

  /** {@code out[oo + i] = a[ao + i] + s × b[i]}, {@code i < n} (vectorized when {@link Simd#ENABLED}, same bits). */
  static void madd(float[] a, int ao, float s, float[] b, float[] out, int oo, int n) {
    if (Simd.ENABLED) {
      VectorKernels.madd(a, ao, s, b, out, oo, n);
      return;
    }
    for (int i = 0; i < n; i++) {
      out[oo + i] = a[ao + i] + s * b[i];
    }
  }

  /** True when L2 search uses the precomputed table (an L2 PQ model within the memory cap). */
  public boolean usesPrecomputedTable() {
    return precomputed != null;
  }

  /** Bytes held by the precomputed table (0 without one). */
  public long precomputedTableBytes() {
    return precomputed == null ? 0 : (long) precomputed.length * Float.BYTES;
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
   * @param ipTable the inner-product ADC table {@code <xt_m, b_{m,k}>} ({@code M × ksub}) for
   *     {@link DistanceMetric#IP} PQ models and for L2 PQ models searched with the precomputed table; null otherwise
   *     (a searcher that needs it and finds null computes it)
   * @param lut {@code ipTable} quantized to bytes ({@link QuantizedLut}) when the searcher scans with {@link LutScan},
   *     else null (the shards are then scanned with the float table only)
   */
  public record PreparedQuery(float[] xt, int[] probes, float[] ipTable, QuantizedLut lut) {}

  /**
   * Rotates and probes a raw query once: {@code xt = R q}, the {@code min(nprobe, nlist)} nearest lists, and for
   * inner-product PQ (and L2 PQ with the precomputed table) the inner-product ADC table.
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
    if (pq != null && (model.metric() == DistanceMetric.IP || precomputed != null)) {
      table = new float[pq.m() * pq.ksub()];
      pq.innerProductTable(xt, table);
    }
    QuantizedLut lut = lutScan ? QuantizedLut.of(table, pq.m(), pq.ksub()) : null;
    return new PreparedQuery(xt, probes, table, lut);
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
    if (lutScan && q.lut() != null && q.ipTable() != null && lutScan(q, lists, top) >= 0) {
      return top.result();
    }
    AdcScan adc = new AdcScan(pq.m(), pq.nbits(), pq.codeSize(), largest);
    if (model.metric() == DistanceMetric.IP) {
      float[] table = q.ipTable();
      for (int list : q.probes()) {
        int n = lists.size(list);
        if (n > 0) {
          adc.scanList(lists.codes(list), lists.ids(list), n, table, coarse.dot(xt, list), 1f, top);
        }
      }
    } else if (precomputed != null) {
      float[] ip = q.ipTable();
      int mk = pq.m() * pq.ksub();
      if (ip == null) {
        ip = new float[mk];
        pq.innerProductTable(xt, ip);
      }
      float[] table = new float[mk];
      for (int list : q.probes()) {
        int n = lists.size(list);
        if (n == 0) {
          continue;
        }
        madd(precomputed, list * mk, -2f, ip, table, 0, mk);
        adc.scanList(lists.codes(list), lists.ids(list), n, table, -coarse.distance(xt, list), -1f, top);
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

  /** {@link LutScan} over one shard: the coarse terms, and for L2 the code terms; −1 when it cannot run. */
  int lutScan(PreparedQuery q, InvertedLists lists, TopK top) {
    int[] probes = q.probes();
    float[] bases = new float[probes.length];
    boolean ip = model.metric() == DistanceMetric.IP;
    LutScan.L2Terms l2 = null;
    if (!ip) {
      l2 = new LutScan.L2Terms(precomputed, new float[probes.length][], new float[probes.length]);
    }
    for (int i = 0; i < probes.length; i++) {
      int list = probes[i];
      if (lists.size(list) == 0) {
        continue;
      }
      bases[i] = ip ? coarse.dot(q.xt(), list) : -coarse.distance(q.xt(), list);
      if (!ip) {
        BlockedCodes codes = lists.blockedCodes(list);
        if (codes == null || codes.size() != lists.size(list)) {
          return -1;
        }
        l2.codeTerms()[i] = codeTerms(lists, list, codes);
        l2.absSum()[i] = precomputedAbsSums[list];
      }
    }
    return new LutScan(pq.m(), pq.ksub()).scan(lists, probes, bases, q.ipTable(), q.lut(), l2, top);
  }

  /** The cached {@link LutScan#codeTerms} of one list (built the first time). */
  private float[] codeTerms(InvertedLists lists, int list, BlockedCodes codes) {
    AtomicReferenceArray<CodeTerms> perList = codeTerms.computeIfAbsent(lists,
        l -> new AtomicReferenceArray<>(model.nlist()));
    CodeTerms cached = perList.get(list);
    if (cached == null || cached.codes() != codes) {
      cached = new CodeTerms(codes, LutScan.codeTerms(codes, precomputed, list * pq.m() * pq.ksub(), pq.ksub()));
      perList.set(list, cached);
    }
    return cached.terms();
  }

  private void scanFlat(float[] xt, float[] x, int list, InvertedLists lists, TopK top) {
    int n = lists.size(list);
    if (n == 0) {
      return;
    }
    FloatBuffer codes = lists.codes(list).duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    IntBuffer ids = lists.ids(list);
    int d = model.dim();
    boolean ip = model.metric() == DistanceMetric.IP;
    for (int i = 0; i < n; i++) {
      codes.get(i * d, x);
      float s = ip ? VectorMath.dot(xt, x) : -VectorMath.l2sq(xt, x);
      top.offer(ids.get(i), s);
    }
  }
}
