package io.quarry.core.search;

import io.quarry.core.quant.Neighbor;
import io.quarry.core.quant.ivf.IvfPqSearcher;
import io.quarry.core.segment.IndexVersion;
import java.util.ArrayList;
import java.util.List;

/**
 * IVF-PQ ADC search over every shard of an index version ({@link IvfPqSearcher} per shard, Jégou et al., TPAMI
 * 2011), merged into a global top-{@code n}. The query is prepared (OPQ rotation and the {@code nprobe} nearest
 * lists) once per query ({@link #prepare}) and handed to every shard. With {@code ivf} sharding a
 * shard is searched only if it owns at least one probed list (a shard's lists outside its range are empty, so the
 * answer is the same as searching all shards). Thread-safe.
 */
public final class DenseSearcher {
  private final IndexVersion version;
  private final IvfPqSearcher searcher;

  public DenseSearcher(IndexVersion version) {
    this.version = version;
    this.searcher = new IvfPqSearcher(version.quantizer());
  }

  /**
   * Rotates the query, finds its {@code nprobe} nearest lists and (inner product) its ADC table: once per query,
   * for every shard.
   *
   * @param query raw query vector ({@code dim} floats)
   * @throws IllegalArgumentException on a dimension mismatch or {@code nprobe < 1}
   */
  public IvfPqSearcher.PreparedQuery prepare(float[] query, int nprobe) {
    return searcher.prepare(query, nprobe);
  }

  /** Shards searched for a prepared query (ids ascending). */
  public List<IndexVersion.Shard> route(IvfPqSearcher.PreparedQuery prepared) {
    List<IndexVersion.Shard> all = version.shards();
    if (!"ivf".equals(version.manifest().sharding())) {
      return all;
    }
    List<IndexVersion.Shard> out = new ArrayList<>();
    for (IndexVersion.Shard s : all) {
      for (int l : prepared.probes()) {
        if (l >= s.listFrom() && l < s.listTo()) {
          out.add(s);
          break;
        }
      }
    }
    return out;
  }

  /** Shards searched for a raw query at {@code nprobe}. */
  public List<IndexVersion.Shard> route(float[] query, int nprobe) {
    return route(prepare(query, nprobe));
  }

  /**
   * Top-{@code n} chunks by ADC score for a prepared query. Tombstoned chunks ({@link IndexVersion.Shard#deleted}) are
   * never returned: a shard with {@code t} tombstones is asked for its top {@code n + t} and the tombstoned ones are
   * dropped, so the live top-{@code n} is exact (the same hits and scores as a version built without those chunks).
   *
   * @return hits best first (ties by shard, id)
   */
  public List<ScoredChunk> search(IvfPqSearcher.PreparedQuery prepared, int n) {
    List<ScoredChunk> all = new ArrayList<>();
    for (IndexVersion.Shard s : route(prepared)) {
      int t = s.deletedCount();
      for (Neighbor nb : searcher.search(prepared, t == 0 ? n : (int) Math.min(Integer.MAX_VALUE, (long) n + t),
          s.lists())) {
        if (t == 0 || s.live(nb.id())) {
          all.add(new ScoredChunk(s.id(), nb.id(), nb.score()));
        }
      }
    }
    all.sort(ScoredChunk.BY_SCORE);
    return all.size() > n ? new ArrayList<>(all.subList(0, n)) : all;
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
    return search(prepare(query, nprobe), n);
  }
}
