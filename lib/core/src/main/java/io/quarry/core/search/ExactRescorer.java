package io.quarry.core.search;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.segment.IndexVersion;
import io.quarry.core.segment.RescoreVectorsFile;
import java.io.IOException;

/**
 * Exact dense scores from the version's stored re-scoring vectors (float32 or sq8, {@link RescoreVectorsFile}):
 * inner product, or the negated squared L2 distance, of the raw query and the stored vector. Stage {@code exact}.
 * Thread-safe.
 */
public final class ExactRescorer {
  private final IndexVersion version;
  private final DistanceMetric metric;
  /** Per shard, the vectors scored: the version's re-scoring vectors, or an extra dense field's. */
  private final java.util.List<RescoreVectorsFile> vectors;
  private final int dim;

  /** Over the version's re-scoring vectors ({@code vectors.bin}). */
  public ExactRescorer(IndexVersion version) {
    this(version, version.shards().stream().map(IndexVersion.Shard::vectors).toList(), version.manifest().dim());
  }

  /**
   * Over other vectors of the version's chunks, one file per shard (an extra dense field, {@link
   * IndexVersion#fieldVectors}), same metric.
   */
  public ExactRescorer(IndexVersion version, java.util.List<RescoreVectorsFile> vectorsPerShard, int dim) {
    this.version = version;
    this.metric = DistanceMetric.parse(version.manifest().metric());
    this.vectors = vectorsPerShard;
    this.dim = dim;
  }

  /**
   * The lowest score the metric can give two L2-normalized vectors (every bundled model normalizes): {@code −1} for
   * inner product, {@code −4} for negated squared L2 distance. The lower bound of theoretical min-max normalization.
   */
  public float theoreticalMin() {
    return metric == DistanceMetric.IP ? -1f : -4f;
  }

  /** Scores chunk {@code id} of {@code shard}. @param scratch {@code dim} floats, reused */
  public float score(float[] query, int shard, int id, float[] scratch) {
    return vectors.get(shard).score(metric, query, id, scratch);
  }

  /** Fills the exact dense score of every candidate as the score of signal {@code signal}. */
  public void scoreAll(QueryContext q, Candidates c, String signal) throws IOException {
    float[] query = q.vector();
    float[] scratch = new float[dim];
    for (int i = 0; i < c.size(); i++) {
      c.setScore(signal, i, score(query, c.shard(i), c.id(i), scratch));
    }
  }

  /** Fills the exact score of every candidate that signal {@code signal} has no score for yet. */
  public void scoreMissing(float[] query, Candidates c, String signal) {
    float[] scratch = new float[dim];
    for (int i = 0; i < c.size(); i++) {
      if (Float.isNaN(c.score(signal, i))) {
        c.setScore(signal, i, score(query, c.shard(i), c.id(i), scratch));
      }
    }
  }

  /**
   * Exact (flat) search: the top {@code depth} live chunks of every shard by exact score, best first (ties by shard,
   * id). Reads every stored vector: linear in the version's chunks, for the extra dense fields, which have no IVF.
   */
  public java.util.List<ScoredChunk> scan(float[] query, int depth) {
    java.util.PriorityQueue<ScoredChunk> heap = new java.util.PriorityQueue<>(ScoredChunk.BY_SCORE.reversed());
    float[] scratch = new float[dim];
    for (IndexVersion.Shard s : version.shards()) {
      RescoreVectorsFile v = vectors.get(s.id());
      for (int id = 0; id < v.size(); id++) {
        if (!s.live(id)) {
          continue;
        }
        heap.add(new ScoredChunk(s.id(), id, v.score(metric, query, id, scratch)));
        if (heap.size() > depth) {
          heap.poll();
        }
      }
    }
    java.util.List<ScoredChunk> top = new java.util.ArrayList<>(heap);
    top.sort(ScoredChunk.BY_SCORE);
    return top;
  }

  /** The top {@code depth} of a ranking, exactly re-scored and re-sorted (best first). */
  public java.util.List<ScoredChunk> rescore(QueryContext q, java.util.List<ScoredChunk> ranking, int depth)
      throws IOException {
    float[] query = q.vector();
    float[] scratch = new float[dim];
    int n = Math.min(depth, ranking.size());
    java.util.List<ScoredChunk> top = new java.util.ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ScoredChunk c = ranking.get(i);
      top.add(new ScoredChunk(c.shard(), c.id(), score(query, c.shard(), c.id(), scratch)));
    }
    top.sort(ScoredChunk.BY_SCORE);
    return top;
  }
}
