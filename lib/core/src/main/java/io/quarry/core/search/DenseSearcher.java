package io.quarry.core.search;

import io.quarry.core.quant.IvfPqSearcher;
import io.quarry.core.quant.Neighbor;
import io.quarry.core.segment.IndexVersion;
import java.util.ArrayList;
import java.util.List;

/**
 * IVF-PQ ADC search over every shard of an index version ({@link IvfPqSearcher} per shard, Jégou et al., TPAMI
 * 2011), merged into a global top-{@code n}. With {@code ivf} sharding a shard is searched only if it owns at least
 * one of the query's {@code nprobe} probed lists (a shard's lists outside its range are empty, so the answer is the
 * same as searching all shards). Thread-safe.
 */
public final class DenseSearcher {
  private final IndexVersion version;
  private final IvfPqSearcher searcher;

  public DenseSearcher(IndexVersion version) {
    this.version = version;
    this.searcher = new IvfPqSearcher(version.quantizer());
  }

  /** Shards searched for a query (ids ascending), given its probed lists. */
  public List<IndexVersion.Shard> route(float[] query, int nprobe) {
    List<IndexVersion.Shard> all = version.shards();
    if (!"ivf".equals(version.manifest().sharding())) {
      return all;
    }
    int[] probed = version.quantizer().probe(version.quantizer().preTransform(query), nprobe);
    List<IndexVersion.Shard> out = new ArrayList<>();
    for (IndexVersion.Shard s : all) {
      for (int l : probed) {
        if (l >= s.listFrom() && l < s.listTo()) {
          out.add(s);
          break;
        }
      }
    }
    return out;
  }

  /**
   * Top-{@code n} chunks by ADC score.
   *
   * @param query raw query vector ({@code dim} floats, embedded with the manifest's model)
   * @param n hits to return
   * @param nprobe IVF lists probed per query
   * @return hits best first (ties by shard, id)
   * @throws IllegalArgumentException on a dimension mismatch or {@code nprobe < 1}
   */
  public List<ScoredChunk> search(float[] query, int n, int nprobe) {
    List<ScoredChunk> all = new ArrayList<>();
    for (IndexVersion.Shard s : route(query, nprobe)) {
      for (Neighbor nb : searcher.search(query, n, nprobe, s.lists())) {
        all.add(new ScoredChunk(s.id(), nb.id(), nb.score()));
      }
    }
    all.sort(ScoredChunk.BY_SCORE);
    return all.size() > n ? new ArrayList<>(all.subList(0, n)) : all;
  }
}
