package io.quarry.core.quant.component;

import io.quarry.core.quant.kernel.BlockProducts;
import io.quarry.core.quant.kernel.L2Kernel;
import io.quarry.core.quant.kernel.Simd;
import io.quarry.core.quant.kernel.VectorKernels;
import io.quarry.core.quant.kernel.VectorMath;
import java.io.Serializable;
import java.util.Arrays;

/**
 * The IVF coarse quantizer (Jégou et al., "Product Quantization for Nearest Neighbor Search", TPAMI 2011, IVFADC):
 * {@code nlist × d} centroids (row-major, in the transformed space), list assignment and probing. Without IVF it is a
 * single all-zero centroid ({@code nlist = 1}), so the residual is the vector itself. Immutable, thread-safe,
 * {@link Serializable}.
 *
 * <p>Both {@link #assign} and {@link #probe} rank centroids by squared L2 distance computed as {@code ||c||² − 2
 * x·c} (precomputed norms; {@link L2Kernel}, the same kernel as the product quantizer), lowest list id on ties, for
 * both metrics: the smallest residual is what residual PQ needs, and for L2-normalized embeddings the L2 order equals
 * the inner-product order. The batch {@link #assign(float[], int, int[])} gives exactly the lists of the per-vector
 * call.
 *
 * <p><b>Graph probe for large nlist</b> (issue 23): when {@code nlist ≥} {@link #graphMinNlist()} (default {@value
 * #DEFAULT_GRAPH_MIN_NLIST}, system property {@code quarry.coarse.hnswMinNlist}; FAISS's {@code IVF65536_HNSW32}
 * shape), {@link #probe} finds candidates in a {@link CentroidGraph} (HNSW over the centroids,
 * built on first use and shared by equal quantizers in the JVM, seeded: deterministic) instead of scanning all
 * {@code nlist} centroids: the
 * graph's {@link #graphBeam}{@code (nprobe) = max(efSearch, 4 · nprobe)} nearest ({@code efSearch} = {@link
 * #graphEfSearch()}, default {@value #DEFAULT_GRAPH_EF_SEARCH}, property {@code quarry.coarse.hnswEfSearch}; the
 * factor 4 found ≈ 99 % of the flat probe's 64 lists on synthetic centroids, {@code bench-probe}) are ranked by the
 * same key and tie rule as
 * the flat scan, so every list returned has the flat scan's distance and the order is the flat order restricted to
 * the candidates. Below the threshold (every spec up to IVF4096 with the default) the exact flat scan runs, as
 * before. The batch {@link #assign} (encoding, training) uses the graph only from {@link #batchGraphMinNlist()}
 * (default 32,768) on: below it the exact scan through {@code sgemm} is the faster one, and exact. {@link #probeFlat}
 * and {@link #probeGraph} choose explicitly (benchmarks, tests).
 *
 * <p>File section ({@code IVFC}, written only with IVF): {@code int32 nlist}, {@code int32 d}, {@code float32[nlist ×
 * d]} big-endian.
 */
public final class CoarseQuantizer implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int nlist;
  private final int d;
  private final float[] centroids;
  private final float[] norms;
  /** {@link VectorKernels#blockTranspose} of the centroids, built on the first vectorized probe (search only). */
  private transient volatile float[] centroidsT;
  /** The HNSW graph over the centroids, built on first use when {@link #usesGraph()}. */
  private transient volatile CentroidGraph graph;

  /** Default {@link #graphMinNlist()}: the smallest nlist probed through the centroid graph. */
  public static final int DEFAULT_GRAPH_MIN_NLIST = 16_384;

  /** Default {@link #graphEfSearch()}. */
  public static final int DEFAULT_GRAPH_EF_SEARCH = 64;

  /** The graph beam per probed list: {@link #graphBeam}{@code (nprobe) = max(efSearch, 4 · nprobe)}. */
  public static final int GRAPH_EF_PER_PROBE = 4;

  /**
   * Default {@link #batchGraphMinNlist()}: from here on the graph's beam of 64 costs less per vector than the exact
   * flat scan through a native {@code sgemm} (bench-probe {@code --assign}, one thread, d = 384: 16,384 lists graph
   * 365 µs vs exact 199 µs; 32,768: 371 vs 403; 65,536: 264 vs 794; MLlib's Java {@code sgemm} 326 µs at 16,384).
   */
  public static final int DEFAULT_BATCH_GRAPH_MIN_NLIST = 32_768;

  private static final int GRAPH_MIN_NLIST = intProperty("quarry.coarse.hnswMinNlist", DEFAULT_GRAPH_MIN_NLIST);
  private static final int BATCH_GRAPH_MIN_NLIST = intProperty("quarry.coarse.batchGraphMinNlist",
      DEFAULT_BATCH_GRAPH_MIN_NLIST);
  private static final int GRAPH_EF_SEARCH = Math.max(1, intProperty("quarry.coarse.hnswEfSearch",
      DEFAULT_GRAPH_EF_SEARCH));

  private static int intProperty(String name, int def) {
    String v = System.getProperty(name);
    if (v == null || v.isBlank()) {
      return def;
    }
    try {
      return Integer.parseInt(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("system property " + name + " must be an integer, got '" + v + "'", e);
    }
  }

  /**
   * The smallest nlist whose {@link #probe} uses the {@link CentroidGraph} (and {@link #assign} too from {@link
   * #batchGraphMinNlist()} on): system property {@code quarry.coarse.hnswMinNlist}, default {@value
   * #DEFAULT_GRAPH_MIN_NLIST}; 0 or less turns the graph off.
   */
  public static int graphMinNlist() {
    return GRAPH_MIN_NLIST;
  }

  /**
   * The smallest nlist whose batch {@link #assign} (the encode's and the trainer's nearest list) goes through the
   * graph, when {@link #usesGraph()}: system property {@code quarry.coarse.batchGraphMinNlist}, default {@value
   * #DEFAULT_BATCH_GRAPH_MIN_NLIST}. Below it a batch is assigned exactly (all centroids; through {@code sgemm} when
   * a {@link BlockProducts} is given), so the lists do not depend on the graph; search probes use the graph from
   * {@link #graphMinNlist()} on, where one query's flat scan costs more than its graph search.
   */
  public static int batchGraphMinNlist() {
    return BATCH_GRAPH_MIN_NLIST;
  }

  /** The smallest graph search beam {@code efSearch}: property {@code quarry.coarse.hnswEfSearch}. */
  public static int graphEfSearch() {
    return GRAPH_EF_SEARCH;
  }

  /** The graph search beam {@link #probe} uses for {@code nprobe} lists: {@code max(efSearch, 4 · nprobe)}. */
  public static int graphBeam(int nprobe) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max((long) GRAPH_EF_SEARCH, (long) GRAPH_EF_PER_PROBE * nprobe));
  }

  private CoarseQuantizer(int nlist, int d, float[] centroids) {
    this.nlist = nlist;
    this.d = d;
    this.centroids = centroids;
    this.norms = L2Kernel.norms(centroids, 0, nlist, d);
  }

  /**
   * IVF centroids.
   *
   * @param centroids {@code nlist × d} row-major (copied)
   * @throws IllegalArgumentException on a wrong length, {@code nlist < 1}, {@code d < 1} or a non-finite value
   */
  public static CoarseQuantizer ivf(float[] centroids, int nlist, int d) {
    if (nlist < 1 || d < 1) {
      throw new IllegalArgumentException("coarse quantizer: nlist and d must be >= 1 (nlist=" + nlist + ", d=" + d
          + ")");
    }
    return new CoarseQuantizer(nlist, d, Checks.finite(centroids, (long) nlist * d, "centroids (nlist × d)"));
  }

  /** No IVF: one zero centroid, every vector in list 0. */
  public static CoarseQuantizer single(int d) {
    return new CoarseQuantizer(1, d, new float[d]);
  }

  /** Number of lists. */
  public int nlist() {
    return nlist;
  }

  /** Dimension {@code d}. */
  public int dim() {
    return d;
  }

  /** A copy of the {@code nlist × d} centroids. */
  public float[] centroids() {
    return centroids.clone();
  }

  /** A copy of centroid {@code list} ({@code d} floats). */
  public float[] centroid(int list) {
    checkList(list);
    return Arrays.copyOfRange(centroids, list * d, (list + 1) * d);
  }

  /** Inner product {@code <xt, c_list>} (the per-list base of inner-product ADC). */
  public float dot(float[] xt, int list) {
    checkList(list);
    return VectorMath.dot(centroids, list * d, xt, 0, d);
  }

  /** Exact squared L2 distance {@code ||xt − c_list||²}. */
  public float distance(float[] xt, int list) {
    checkList(list);
    return VectorMath.l2sq(xt, 0, centroids, list * d, d);
  }

  /**
   * The list of one transformed vector: nearest centroid in L2, lowest id on ties.
   *
   * @throws IllegalArgumentException when {@code xt.length != d}
   */
  public int assign(float[] xt) {
    checkDim(xt);
    int[] out = new int[1];
    assign(xt, 1, out);
    return out[0];
  }

  /**
   * Lists of {@code n} transformed vectors, blocked; equal to calling {@link #assign(float[])} per vector.
   *
   * @param xt {@code n × d} row-major
   * @param lists destination, {@code n} ints
   */
  public void assign(float[] xt, int n, int[] lists) {
    assign(xt, n, lists, null);
  }

  /** Rows per {@link BlockProducts} call in {@link #assign(float[], int, int[], BlockProducts)}. */
  private static final int GEMM_ROWS = 256;

  /**
   * {@link #assign(float[], int, int[])} with the bulk of the distance work in {@code gemm} (e.g. a native BLAS
   * {@code sgemm}): the same lists, bit for bit, whatever {@code gemm}'s summation order. One {@code gemm} call per
   * {@value #GEMM_ROWS} vectors; {@link L2Kernel#nearestFromProducts} shortlists the centroids within a proven
   * rounding bound of the approximate minimum and ranks them with the reference kernel, lowest id on ties. The
   * shortlist is typically 1–3 centroids, so the reference kernel costs O(d) per vector instead of O(nlist · d).
   * From {@link #batchGraphMinNlist()} lists on the graph assigns instead and {@code gemm} is not used.
   *
   * @param xt {@code n × d} row-major transformed vectors
   * @param lists destination, {@code n} ints
   * @param gemm the inner-product kernel; null: the reference kernel
   */
  public void assign(float[] xt, int n, int[] lists, BlockProducts gemm) {
    if (!assignsThroughGraph()) {
      assignExact(xt, n, lists, gemm);
      return;
    }
    checkBatch(xt, n, lists);
    float[] x = new float[d];
    for (int i = 0; i < n; i++) {
      System.arraycopy(xt, i * d, x, 0, d);
      lists[i] = probeGraph(x, 1, graphBeam(1))[0];
    }
  }

  private void checkBatch(float[] xt, int n, int[] lists) {
    if (xt.length < (long) n * d || lists.length < n) {
      throw new IllegalArgumentException("expected " + n + " × " + d + " floats and " + n + " list slots");
    }
  }

  /**
   * The exact flat assignment of {@code n} vectors whatever nlist ({@link #assign(float[], int, int[], BlockProducts)}
   * without the graph): every centroid scored, nearest in L2, lowest id on ties; with {@code gemm} through its
   * products and the shortlist check, else the reference kernel. Benchmarks compare it with the graph.
   *
   * @param xt {@code n × d} row-major transformed vectors
   * @param lists destination, {@code n} ints
   * @param gemm the inner-product kernel, or null
   */
  public void assignExact(float[] xt, int n, int[] lists, BlockProducts gemm) {
    checkBatch(xt, n, lists);
    if (nlist == 1) {
      Arrays.fill(lists, 0, n, 0);
      return;
    }
    if (gemm == null) {
      L2Kernel.nearest(xt, 0, d, n, centroids, 0, norms, 0, nlist, d, lists, 0, 1);
      return;
    }
    int rowsPer = Math.max(1, Math.min(GEMM_ROWS, n));
    float[] p = new float[rowsPer * nlist];
    float[] xb = new float[rowsPer * d];
    for (int i0 = 0; i0 < n; i0 += rowsPer) {
      int nb = Math.min(rowsPer, n - i0);
      System.arraycopy(xt, i0 * d, xb, 0, nb * d);
      gemm.products(xb, nb, centroids, nlist, d, p);
      L2Kernel.nearestFromProducts(xt, i0 * d, d, nb, centroids, 0, norms, 0, nlist, d, p, lists, i0, 1);
    }
  }

  /**
   * The {@code min(nprobe, nlist)} lists to scan for a transformed query, nearest centroid first, ties by lower id;
   * {@code probe(xt, 1)[0] == assign(xt)} below {@link #graphMinNlist()}. From {@link #graphMinNlist()} lists on
   * through the centroid graph ({@link #probeGraph} with the beam {@link #graphBeam}{@code (nprobe)}) while that
   * beam is below nlist, else the exact scan ({@link #probeFlat}).
   *
   * @throws IllegalArgumentException when {@code nprobe < 1} or the dimension is wrong
   */
  public int[] probe(float[] xt, int nprobe) {
    checkDim(xt);
    if (nprobe < 1) {
      throw new IllegalArgumentException("nprobe must be >= 1, got " + nprobe);
    }
    int n = Math.min(nprobe, nlist);
    if (n == 1) {
      return new int[] {assign(xt)};
    }
    // a beam of nlist or more would visit every centroid anyway: the flat scan is exact and cheaper (and nprobe =
    // nlist keeps returning every list, so the searcher's nprobe = nlist is still the exhaustive search)
    return usesGraph() && graphBeam(n) < nlist ? probeGraph(xt, n, graphBeam(n)) : probeFlat(xt, n);
  }

  /**
   * The exact probe: all {@code nlist} keys {@code ||c||² − 2 xt·c}, the {@code min(nprobe, nlist)} smallest, ties
   * by lower id (the reference the graph probe is measured against).
   */
  public int[] probeFlat(float[] xt, int nprobe) {
    checkDim(xt);
    int n = Math.min(Math.max(1, nprobe), nlist);
    float[] dist = new float[nlist];
    distances(xt, dist);
    long[] keys = new long[nlist];
    for (int l = 0; l < nlist; l++) {
      keys[l] = sortKey(dist[l], l);
    }
    Arrays.sort(keys);
    return lowIds(keys, n);
  }

  /**
   * The graph probe: the {@link CentroidGraph}'s {@code max(ef, nprobe)} candidates ranked by the flat probe's key
   * and tie rule; the {@code min(nprobe, nlist)} best. Builds the graph on first use (any nlist).
   *
   * @param ef the graph's search beam ({@code efSearch})
   */
  public int[] probeGraph(float[] xt, int nprobe, int ef) {
    checkDim(xt);
    int n = Math.min(Math.max(1, nprobe), nlist);
    int[] cand = graph().search(xt, Math.max(ef, n));
    long[] keys = new long[cand.length];
    for (int i = 0; i < cand.length; i++) {
      int j = cand[i];
      keys[i] = sortKey(norms[j] - 2f * L2Kernel.dot(centroids, j * d, xt, 0, d), j);
    }
    Arrays.sort(keys);
    return lowIds(keys, Math.min(n, keys.length));
  }

  /** Whether {@link #probe} goes through the centroid graph ({@code nlist ≥ graphMinNlist()}). */
  public boolean usesGraph() {
    return GRAPH_MIN_NLIST > 0 && nlist >= GRAPH_MIN_NLIST && nlist > 1;
  }

  /** Whether {@link #assign} goes through the graph: {@link #usesGraph()} and nlist ≥ {@link #batchGraphMinNlist()}. */
  public boolean assignsThroughGraph() {
    return usesGraph() && nlist >= BATCH_GRAPH_MIN_NLIST;
  }

  private CentroidGraph graph() {
    CentroidGraph g = graph;
    if (g == null) {
      synchronized (this) {
        g = graph;
        if (g == null) {
          g = CentroidGraph.shared(centroids, nlist, d, CentroidGraph.DEFAULT_SEED);
          graph = g;
        }
      }
    }
    return g;
  }

  /**
   * (distance, id) packed into one long that sorts like Float.compare then id: the float's bits mapped to an int with
   * the same order (negative floats' magnitude bits flipped), the id in the low 32 bits.
   */
  private static long sortKey(float dist, int id) {
    int bits = Float.floatToIntBits(dist);
    return ((long) (bits ^ ((bits >> 31) & 0x7FFFFFFF)) << 32) | id;
  }

  private static int[] lowIds(long[] sortedKeys, int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = (int) sortedKeys[i];
    }
    return out;
  }

  /**
   * {@code out[l] = ||c_l||² − 2 xt·c_l} for every list (the ranking key of {@link #probe}; add {@code ||xt||²} for the
   * squared distance): {@link L2Kernel#distances}, on the Vector API when {@link Simd#ENABLED} (one lane per centroid,
   * the same bits).
   *
   * @param xt a transformed {@code d}-vector; @param out {@code nlist} floats
   */
  void distances(float[] xt, float[] out) {
    int done = 0;
    if (Simd.ENABLED && nlist >= Simd.LANES) {
      float[] ct = centroidsT;
      if (ct == null) {
        ct = VectorKernels.blockTranspose(centroids, 0, nlist, d);
        centroidsT = ct;
      }
      VectorKernels.coarseDistances(xt, ct, norms, nlist, d, out);
      done = nlist - nlist % Simd.LANES;
    }
    L2Kernel.distances(xt, 0, centroids, norms, done, nlist, d, out);
  }

  /**
   * Residuals {@code r_i = xt_i − c_{lists[i]}} of {@code n} vectors.
   *
   * @param xt {@code n × d}; @param lists their lists; @param out {@code n × d} destination (may be {@code xt})
   */
  public void residuals(float[] xt, int n, int[] lists, float[] out) {
    for (int i = 0; i < n; i++) {
      int xo = i * d;
      int co = lists[i] * d;
      for (int t = 0; t < d; t++) {
        out[xo + t] = xt[xo + t] - centroids[co + t];
      }
    }
  }

  /** Adds centroid {@code list} to {@code out[oo, oo+d)}. */
  public void addCentroid(int list, float[] out, int oo) {
    int co = list * d;
    for (int t = 0; t < d; t++) {
      out[oo + t] += centroids[co + t];
    }
  }

  /**
   * Checks a list id.
   *
   * @throws IllegalArgumentException unless {@code 0 ≤ list < nlist}
   */
  public void checkList(int list) {
    if (list < 0 || list >= nlist) {
      throw new IllegalArgumentException("list id " + list + " out of range [0, " + nlist + ")");
    }
  }

  private void checkDim(float[] x) {
    if (x.length != d) {
      throw new IllegalArgumentException("vector has dimension " + x.length + ", the quantizer expects " + d);
    }
  }

  @Override
  public String toString() {
    return "CoarseQuantizer[nlist=" + nlist + ", d=" + d + "]";
  }
}
