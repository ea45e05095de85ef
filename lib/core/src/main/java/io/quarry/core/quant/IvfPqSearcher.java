package io.quarry.core.quant;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
 */
public final class IvfPqSearcher {
  private final QuantizerModel model;
  private final float[] codebooks;
  private final float[] centroids;

  /** @param model the trained quantizer the lists were encoded with */
  public IvfPqSearcher(QuantizerModel model) {
    this.model = model;
    this.codebooks = model.codebooks();
    this.centroids = model.centroids();
  }

  public QuantizerModel model() {
    return model;
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
    float[] xt = model.preTransform(query);
    return scan(xt, k, model.probe(xt, nprobe), lists);
  }

  /**
   * Top-{@code k} search over {@code lists} for a query whose coarse assignment was computed once beforehand (the
   * same assignment serves every shard of an index version).
   *
   * @param xt the pre-transformed query ({@link QuantizerModel#preTransform})
   * @param probes the lists to scan ({@link QuantizerModel#probe} of {@code xt}); lists a shard does not own are
   *     empty there
   * @throws IllegalArgumentException on a lists mismatch
   */
  public List<Neighbor> search(float[] xt, int[] probes, int k, InvertedLists lists) {
    checkLists(lists);
    return scan(xt, k, probes, lists);
  }

  /** Exhaustive ADC: scans every list in list-id order. Same arguments as {@link #search}. */
  public List<Neighbor> searchExhaustive(float[] query, int k, InvertedLists lists) {
    checkLists(lists);
    float[] xt = model.preTransform(query);
    int[] all = new int[model.nlist()];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    return scan(xt, k, all, lists);
  }

  private void checkLists(InvertedLists lists) {
    if (lists.nlist() != model.nlist() || lists.codeSize() != model.codeSize()) {
      throw new IllegalArgumentException("inverted lists (nlist=" + lists.nlist() + ", codeSize=" + lists.codeSize()
          + ") do not match the quantizer (nlist=" + model.nlist() + ", codeSize=" + model.codeSize() + ")");
    }
  }

  private List<Neighbor> scan(float[] xt, int k, int[] probes, InvertedLists lists) {
    TopK top = new TopK(k);
    int d = model.dim();
    if (codebooks == null) {
      float[] x = new float[d];
      for (int list : probes) {
        scanFlat(xt, x, list, lists, top);
      }
      return top.result();
    }
    int m = model.m();
    int ksub = model.ksub();
    int dsub = model.dsub();
    float[] table = new float[m * ksub];
    if (model.metric() == Metric.IP) {
      for (int j = 0; j < m; j++) {
        for (int c = 0; c < ksub; c++) {
          table[j * ksub + c] = VectorMath.dot(xt, j * dsub, codebooks, (j * ksub + c) * dsub, dsub);
        }
      }
      for (int list : probes) {
        float base = VectorMath.dot(centroids, list * d, xt, 0, d);
        scanPq(list, lists, table, base, 1f, top);
      }
    } else {
      float[] r = new float[d];
      for (int list : probes) {
        if (lists.size(list) == 0) {
          continue;
        }
        for (int i = 0; i < d; i++) {
          r[i] = xt[i] - centroids[list * d + i];
        }
        for (int j = 0; j < m; j++) {
          for (int c = 0; c < ksub; c++) {
            table[j * ksub + c] = VectorMath.l2sq(r, j * dsub, codebooks, (j * ksub + c) * dsub, dsub);
          }
        }
        scanPq(list, lists, table, 0f, -1f, top);
      }
    }
    return top.result();
  }

  /** score = base + sign × Σ_j table[j][code_j]. */
  private void scanPq(int list, InvertedLists lists, float[] table, float base, float sign, TopK top) {
    int n = lists.size(list);
    if (n == 0) {
      return;
    }
    ByteBuffer codes = lists.codes(list);
    IntBuffer ids = lists.ids(list);
    int m = model.m();
    int ksub = model.ksub();
    int nbits = model.nbits();
    int cs = model.codeSize();
    if (nbits == 8) {
      for (int i = 0; i < n; i++) {
        int off = i * cs;
        float s = 0;
        for (int j = 0; j < m; j++) {
          s += table[j * ksub + (codes.get(off + j) & 0xFF)];
        }
        top.offer(ids.get(i), base + sign * s);
      }
    } else {
      byte[] code = new byte[cs];
      for (int i = 0; i < n; i++) {
        codes.get(i * cs, code, 0, cs);
        float s = 0;
        for (int j = 0; j < m; j++) {
          s += table[j * ksub + PqCodes.get(code, 0, j, nbits)];
        }
        top.offer(ids.get(i), base + sign * s);
      }
    }
  }

  private void scanFlat(float[] xt, float[] x, int list, InvertedLists lists, TopK top) {
    int n = lists.size(list);
    if (n == 0) {
      return;
    }
    ByteBuffer codes = lists.codes(list).duplicate().order(ByteOrder.LITTLE_ENDIAN);
    IntBuffer ids = lists.ids(list);
    int d = model.dim();
    for (int i = 0; i < n; i++) {
      codes.position(i * 4 * d);
      codes.asFloatBuffer().get(x);
      float s = model.metric() == Metric.IP ? VectorMath.dot(xt, x) : -VectorMath.l2sq(xt, x);
      top.offer(ids.get(i), s);
    }
  }
}
