package io.quarry.core.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.Neighbor;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.quant.ivf.ArrayInvertedLists;
import io.quarry.core.quant.ivf.IvfPqSearcher;
import io.quarry.core.quant.train.QuantizerTrainer;
import io.quarry.core.segment.Checksums;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import io.quarry.core.segment.ShardEntry;
import io.quarry.core.segment.ShardWriter;
import io.quarry.core.segment.Sharding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sharded search over segment files equals unsharded ADC search over the same codes, for hash and ivf sharding;
 * exact re-scoring returns the true inner products (float32) or close ones (sq8).
 */
class DenseSearcherTest {
  static final int N = 600;
  static final int D = 16;
  static final int NLIST = 8;

  @TempDir Path tmp;

  static float[] data(long seed) {
    Random r = new Random(seed);
    float[] x = new float[N * D];
    for (int i = 0; i < N; i++) {
      double norm = 0;
      for (int j = 0; j < D; j++) {
        x[i * D + j] = (float) r.nextGaussian() + (i % NLIST) * 0.5f * (j == i % D ? 1 : 0);
        norm += x[i * D + j] * x[i * D + j];
      }
      for (int j = 0; j < D; j++) {
        x[i * D + j] /= (float) Math.sqrt(norm);
      }
    }
    return x;
  }

  static IndexVersion write(Path dir, QuantizerModel q, float[] x, int shards, String sharding, String rescore)
      throws Exception {
    List<List<ShardEntry>> parts = new ArrayList<>();
    for (int s = 0; s < shards; s++) {
      parts.add(new ArrayList<>());
    }
    long[] sizes = new long[q.nlist()];
    List<ShardEntry> all = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      float[] v = java.util.Arrays.copyOfRange(x, i * D, (i + 1) * D);
      QuantizerModel.Encoded e = q.encodeVector(v);
      sizes[e.list()]++;
      all.add(new ShardEntry(String.format("c%04d", i), "d" + (i / 3), i % 3, 0, 1, "", "t", e.list(), e.code(), v));
    }
    int[] bounds = "ivf".equals(sharding) ? Sharding.ivfBounds(sizes, shards) : null;
    for (ShardEntry e : all) {
      int s = bounds == null ? Sharding.hashShard(e.docId(), shards) : Sharding.ivfShard(bounds, e.list());
      parts.get(s).add(e);
    }
    byte[] qb = QuantizerFormat.toBytes(q);
    Files.createDirectories(dir);
    Files.write(dir.resolve("quantizer.bin"), qb);
    List<IndexManifest.Shard> ms = new ArrayList<>();
    for (int s = 0; s < shards; s++) {
      Path sd = dir.resolve(IndexManifest.shardDir(s));
      ShardWriter.Stats st = ShardWriter.writeDense(sd, s, q.nlist(), q.codeSize(), D, rescore, parts.get(s));
      ms.add(new IndexManifest.Shard(s, IndexManifest.shardDir(s), st.chunks(), st.docs(),
          bounds == null ? 0 : bounds[s], bounds == null ? q.nlist() : bounds[s + 1], Checksums.list(dir, sd)));
    }
    IndexManifest m = new IndexManifest(1, "t", q.spec().toString(), "ip", D, q.nlist(), q.codeSize(), sharding,
        rescore, new IndexManifest.Model("m", "s", D), null,
        new IndexManifest.FileEntry("quantizer.bin", qb.length, Checksums.sha256(qb)), ms, N, N / 3, "h", null, "t", null);
    Files.write(dir.resolve(IndexManifest.FILE_NAME), m.toJson());
    return IndexVersion.open(dir, true);
  }

  @Test
  void shardedSearchEqualsUnshardedAdc() throws Exception {
    float[] x = data(3);
    QuantizerModel q = QuantizerTrainer.train(x, N, D, IndexSpec.parse("IVF8,PQ4x8"), DistanceMetric.IP,
        QuantizerTrainer.Params.defaults(5));
    ArrayInvertedLists ref = ArrayInvertedLists.build(q, x, N);
    IvfPqSearcher adc = new IvfPqSearcher(q);
    for (String sharding : List.of("hash", "ivf")) {
      IndexVersion v = write(tmp.resolve(sharding), q, x, 3, sharding, "float32");
      DenseSearcher ds = new DenseSearcher(v);
      float[] query = data(99);
      for (int t = 0; t < 5; t++) {
        float[] qv = java.util.Arrays.copyOfRange(query, t * D, (t + 1) * D);
        for (int nprobe : new int[] {1, 3, NLIST}) {
          List<Neighbor> expected = adc.search(qv, 20, nprobe, ref);
          List<ScoredChunk> got = ds.search(qv, 20, nprobe);
          assertThat(got).hasSize(expected.size());
          for (int i = 0; i < got.size(); i++) {
            ScoredChunk c = got.get(i);
            String chunkId = v.shards().get(c.shard()).table().chunkId(c.id());
            // same scores in the same order (ids may differ only among equal scores)
            assertThat(c.score()).as("%s nprobe %d rank %d", sharding, nprobe, i)
                .isCloseTo(expected.get(i).score(), within(1e-5f));
            if (i == 0) {
              assertThat(chunkId).isEqualTo(String.format("c%04d", expected.get(0).id()));
            }
          }
        }
        if ("ivf".equals(sharding)) {
          assertThat(ds.route(qv, 1)).hasSize(1);
        }
      }
    }
  }

  @Test
  void exactRescoringUsesStoredVectors() throws Exception {
    float[] x = data(4);
    QuantizerModel q = QuantizerTrainer.train(x, N, D, IndexSpec.parse("IVF8,PQ4x8"), DistanceMetric.IP,
        QuantizerTrainer.Params.defaults(5));
    for (String rescore : List.of("float32", "sq8")) {
      IndexVersion v = write(tmp.resolve(rescore), q, x, 2, "hash", rescore);
      HybridSearcher hs = new HybridSearcher(v, s -> java.util.Arrays.copyOfRange(x, 7 * D, 8 * D), null, null);
      HybridSearcher.Result r = hs.search(new HybridSearcher.Request("c0007", SearchOptions.builder().k(10)
          .mode(SearchOptions.Mode.RESCORE).nprobe(NLIST).depth(50).rescoreDepth(50).withText(false).build()));
      assertThat(r.hits().get(0).chunkId()).isEqualTo("c0007");
      for (HybridSearcher.Hit h : r.hits()) {
        int i = Integer.parseInt(h.chunkId().substring(1));
        float dot = 0;
        for (int j = 0; j < D; j++) {
          dot += x[7 * D + j] * x[i * D + j];
        }
        assertThat(h.stageScore(HybridSearcher.RESCORE)).isCloseTo(dot, within("float32".equals(rescore) ? 1e-5f : 0.02f));
        assertThat(h.score()).isEqualTo(h.stageScore(HybridSearcher.RESCORE));
      }
      for (int i = 1; i < r.hits().size(); i++) {
        assertThat(r.hits().get(i).stageScore(HybridSearcher.RESCORE)).isLessThanOrEqualTo(r.hits().get(i - 1).stageScore(HybridSearcher.RESCORE));
      }
    }
  }
}
