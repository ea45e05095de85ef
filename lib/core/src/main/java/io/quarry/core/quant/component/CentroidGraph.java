package io.quarry.core.quant.component;

import io.quarry.core.quant.kernel.WideL2;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import org.apache.lucene.search.KnnCollector;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.util.hnsw.HnswGraphBuilder;
import org.apache.lucene.util.hnsw.HnswGraphSearcher;
import org.apache.lucene.util.hnsw.OnHeapHnswGraph;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.hnsw.RandomVectorScorerSupplier;

/**
 * An HNSW graph (Malkov &amp; Yashunin, "Efficient and robust approximate nearest neighbor search using Hierarchical
 * Navigable Small World graphs", TPAMI 2018) over the {@code nlist × d} IVF centroids (row-major), so the coarse
 * quantizer finds a query's nearest lists without scanning all of them: FAISS's {@code IndexHNSWFlat} as the coarse
 * quantizer of {@code IVF65536_HNSW32}. The graph is Lucene's ({@code org.apache.lucene.util.hnsw}: {@link
 * HnswGraphBuilder}, {@link HnswGraphSearcher}, Apache-2.0), built in memory over Quarry's centroid array with a
 * fixed-order squared L2 ({@link WideL2#l2sq}: eight-lane vectors, the same bits on every CPU and in its scalar
 * twin) as the distance (similarity {@code 1 / (1 + ||x − c||²)}, Lucene's EUCLIDEAN form). The graph only
 * nominates candidates: callers rank them with the quantizer's own kernel.
 *
 * <p>Deterministic: Lucene's single-threaded builder draws node levels from its seed and inserts nodes in id order,
 * so the same centroids and seed give the same graph and the same search results on any run.
 *
 * <p>Parameters as FAISS's {@code HNSW32}: {@link #M} = 32 neighbours per node on the upper levels (2M on level 0, as
 * both libraries do), construction beam {@link #EF_CONSTRUCTION} = 40 (FAISS's {@code efConstruction}). Memory about
 * {@code nlist × 2M × 4} bytes on level 0 (16 MiB at 65,536 lists) beside the centroids. Build cost about {@code nlist
 * × EF_CONSTRUCTION × M} distance evaluations of {@code d} floats, once per JVM.
 */
public final class CentroidGraph {
  /** Maximum neighbours per node on the upper levels (level 0 keeps 2M): FAISS's {@code HNSW32}. */
  public static final int M = 32;

  /** Candidate beam while inserting a node: FAISS's default {@code efConstruction}. */
  public static final int EF_CONSTRUCTION = 40;

  /** Seed of the level draws when none is given (the quantizer's graph; {@link #build}). */
  public static final long DEFAULT_SEED = 42;

  private final float[] centroids;
  private final int nlist;
  private final int d;
  private final long seed;
  private final OnHeapHnswGraph graph;

  private CentroidGraph(float[] centroids, int nlist, int d, long seed, OnHeapHnswGraph graph) {
    this.centroids = centroids;
    this.nlist = nlist;
    this.d = d;
    this.seed = seed;
    this.graph = graph;
  }

  /**
   * Builds the graph (single thread, deterministic).
   *
   * @param centroids {@code nlist × d} row-major; not copied, must not change afterwards
   * @param seed seed of Lucene's level draws
   */
  public static CentroidGraph build(float[] centroids, int nlist, int d, long seed) {
    if (nlist < 1 || d < 1 || centroids.length < (long) nlist * d) {
      throw new IllegalArgumentException("centroid graph: expected nlist × d = " + nlist + " × " + d + " floats");
    }
    RandomVectorScorerSupplier supplier = new Supplier(centroids, nlist, d);
    try {
      HnswGraphBuilder builder = HnswGraphBuilder.create(supplier, M, EF_CONSTRUCTION, seed);
      return new CentroidGraph(centroids, nlist, d, seed, builder.build(nlist));
    } catch (IOException e) {
      throw new UncheckedIOException(e); // in-memory scorers never throw
    }
  }

  /** Recently built graphs, for {@link #shared} (soft: the collector may drop them under memory pressure). */
  private static final java.util.ArrayDeque<java.lang.ref.SoftReference<CentroidGraph>> RECENT =
      new java.util.ArrayDeque<>();

  /** How many graphs {@link #shared} remembers. */
  private static final int RECENT_MAX = 2;

  /**
   * {@link #build}, or a graph this JVM already built for equal centroids and seed: every deserialized copy of one
   * quantizer (each Spark broadcast of the model or of its coarse quantizer, in each executor) would otherwise build
   * its own. A hit costs one comparison of the {@code nlist × d} floats. The result is the same graph either way.
   */
  public static CentroidGraph shared(float[] centroids, int nlist, int d, long seed) {
    synchronized (RECENT) {
      for (java.lang.ref.SoftReference<CentroidGraph> ref : RECENT) {
        CentroidGraph g = ref.get();
        if (g != null && g.nlist == nlist && g.d == d && g.seed == seed && Arrays.equals(g.centroids, 0,
            nlist * d, centroids, 0, nlist * d)) {
          return g;
        }
      }
    }
    CentroidGraph g = build(centroids, nlist, d, seed); // outside the lock: builds of other quantizers may overlap
    synchronized (RECENT) {
      RECENT.addFirst(new java.lang.ref.SoftReference<>(g));
      while (RECENT.size() > RECENT_MAX) {
        RECENT.removeLast();
      }
    }
    return g;
  }

  /** Number of centroids (graph nodes). */
  public int size() {
    return nlist;
  }

  /**
   * The graph's {@code min(ef, nlist)} nearest centroids of {@code xt} (Lucene's beam search with queue size {@code
   * ef}; in no particular order). The caller ranks them by its own distance.
   *
   * @param xt a {@code d}-vector in the centroids' space
   * @param ef search beam ({@code efSearch}), ≥ 1
   */
  public int[] search(float[] xt, int ef) {
    int k = Math.min(Math.max(1, ef), nlist);
    try {
      KnnCollector c = HnswGraphSearcher.search(new Scorer(centroids, nlist, d, xt), k, graph, null,
          Integer.MAX_VALUE);
      ScoreDoc[] docs = c.topDocs().scoreDocs;
      int[] out = new int[docs.length];
      for (int i = 0; i < docs.length; i++) {
        out[i] = docs[i].doc;
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Lucene's similarity from the squared L2: {@code 1 / (1 + ||a − b||²)} (EUCLIDEAN's form, in (0, 1]). */
  private static float similarity(float[] a, int ao, float[] b, int bo, int d) {
    return 1f / (1f + WideL2.l2sq(a, ao, b, bo, d));
  }

  /** Scores centroids against one query vector. */
  private record Scorer(float[] c, int nlist, int d, float[] q) implements RandomVectorScorer {
    @Override
    public float score(int node) {
      return similarity(q, 0, c, node * d, d);
    }

    @Override
    public int maxOrd() {
      return nlist;
    }
  }

  /** Scores centroids against centroid {@code ord} (graph construction). */
  private record Supplier(float[] c, int nlist, int d) implements RandomVectorScorerSupplier {
    @Override
    public RandomVectorScorer scorer(int ord) {
      return new RandomVectorScorer() {
        @Override
        public float score(int node) {
          return similarity(c, ord * d, c, node * d, d);
        }

        @Override
        public int maxOrd() {
          return nlist;
        }
      };
    }

    @Override
    public RandomVectorScorerSupplier copy() {
      return this; // stateless
    }
  }
}
