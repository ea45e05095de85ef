package io.quarry.core.search;

import io.quarry.core.quant.Metric;
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
  private final Metric metric;

  public ExactRescorer(IndexVersion version) {
    this.version = version;
    this.metric = Metric.parse(version.manifest().metric());
  }

  /**
   * The lowest score the metric can give two L2-normalized vectors (every bundled model normalizes): {@code −1} for
   * inner product, {@code −4} for negated squared L2 distance. The lower bound of theoretical min-max normalization.
   */
  public float theoreticalMin() {
    return metric == Metric.IP ? -1f : -4f;
  }

  /** Scores chunk {@code id} of {@code shard}. @param scratch {@code dim} floats, reused */
  public float score(float[] query, int shard, int id, float[] scratch) {
    RescoreVectorsFile v = version.shards().get(shard).vectors();
    return v.score(metric, query, id, scratch);
  }

  /** Fills the exact dense score of every candidate as the score of signal {@code signal}. */
  public void scoreAll(QueryContext q, Candidates c, String signal) throws IOException {
    float[] query = q.vector();
    float[] scratch = new float[version.manifest().dim()];
    for (int i = 0; i < c.size(); i++) {
      c.setScore(signal, i, score(query, c.shard(i), c.id(i), scratch));
    }
  }

  /** The top {@code depth} of a ranking, exactly re-scored and re-sorted (best first). */
  public java.util.List<ScoredChunk> rescore(QueryContext q, java.util.List<ScoredChunk> ranking, int depth)
      throws IOException {
    float[] query = q.vector();
    float[] scratch = new float[version.manifest().dim()];
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
