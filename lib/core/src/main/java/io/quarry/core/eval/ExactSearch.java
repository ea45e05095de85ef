package io.quarry.core.eval;

import io.quarry.core.quant.DistanceMetric;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Exact (brute-force) top-n search of a batch of queries over float vectors, the ground truth of the dense stage:
 * every vector is scored against every query ({@link DistanceMetric#IP}: inner product; {@link DistanceMetric#L2}:
 * negated squared L2 distance). Built to run as a partial aggregate: each Spark partition {@link #offer}s its vectors
 * to its own accumulator, partial accumulators are {@link #merge}d, and the answer does not depend on the
 * partitioning: ties are broken by chunk id ascending (a total order).
 *
 * <p>Scores are accumulated in float, like the ADC search; cost is {@code O(nq × n × d)}.
 */
public final class ExactSearch implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Best first: score descending, then chunk id ascending. */
  public static final Comparator<ChunkHit> BEST_FIRST =
      Comparator.comparingDouble((ChunkHit h) -> -h.score()).thenComparing(ChunkHit::chunkId);

  /** Heap order (worst on top); a named class because the heaps travel between Spark executors and driver. */
  private static final class WorstFirst implements Comparator<ChunkHit>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public int compare(ChunkHit a, ChunkHit b) {
      return BEST_FIRST.compare(b, a);
    }
  }

  private final float[][] queries;
  private final int n;
  private final DistanceMetric metric;
  private final List<PriorityQueue<ChunkHit>> heaps;

  /**
   * @param queries {@code nq × d} query vectors (row per query)
   * @param n hits kept per query, &gt; 0
   * @param metric similarity
   * @throws IllegalArgumentException if {@code n <= 0} or the query rows differ in length
   */
  public ExactSearch(float[][] queries, int n, DistanceMetric metric) {
    if (n <= 0) {
      throw new IllegalArgumentException("n must be > 0, got " + n);
    }
    for (float[] q : queries) {
      if (q.length != queries[0].length) {
        throw new IllegalArgumentException("query vectors differ in dimension: " + q.length + " vs " + queries[0].length);
      }
    }
    this.queries = queries;
    this.n = n;
    this.metric = metric;
    this.heaps = new ArrayList<>(queries.length);
    for (int i = 0; i < queries.length; i++) {
      heaps.add(new PriorityQueue<>(new WorstFirst()));
    }
  }

  /**
   * Scores one database vector against every query.
   *
   * @throws IllegalArgumentException if {@code vector.length} differs from the query dimension
   */
  public void offer(String chunkId, String docId, float[] vector) {
    if (queries.length == 0) {
      return;
    }
    if (vector.length != queries[0].length) {
      throw new IllegalArgumentException("vector of chunk " + chunkId + " has dimension " + vector.length
          + ", queries have " + queries[0].length);
    }
    for (int qi = 0; qi < queries.length; qi++) {
      float[] q = queries[qi];
      float s = 0;
      if (metric == DistanceMetric.IP) {
        for (int i = 0; i < q.length; i++) {
          s += q[i] * vector[i];
        }
      } else {
        for (int i = 0; i < q.length; i++) {
          float t = q[i] - vector[i];
          s += t * t;
        }
        s = -s;
      }
      push(qi, new ChunkHit(chunkId, docId, s));
    }
  }

  private void push(int qi, ChunkHit h) {
    PriorityQueue<ChunkHit> heap = heaps.get(qi);
    if (heap.size() < n) {
      heap.add(h);
    } else if (BEST_FIRST.compare(h, heap.peek()) < 0) {
      heap.poll();
      heap.add(h);
    }
  }

  /** Folds another accumulator over the same queries into this one; returns this. */
  public ExactSearch merge(ExactSearch other) {
    if (other.queries.length != queries.length) {
      throw new IllegalArgumentException("cannot merge searches over different query batches");
    }
    for (int qi = 0; qi < queries.length; qi++) {
      for (ChunkHit h : other.heaps.get(qi)) {
        push(qi, h);
      }
    }
    return this;
  }

  /** Per query (input order), its top-n hits, best first. */
  public List<List<ChunkHit>> results() {
    List<List<ChunkHit>> out = new ArrayList<>(queries.length);
    for (PriorityQueue<ChunkHit> heap : heaps) {
      List<ChunkHit> l = new ArrayList<>(heap);
      l.sort(BEST_FIRST);
      out.add(l);
    }
    return out;
  }
}
