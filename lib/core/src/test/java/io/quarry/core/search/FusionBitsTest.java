package io.quarry.core.search;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.config.TuningConfig;
import io.quarry.core.eval.FusionTuner;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Pins every two-signal fusion bit for bit: the SHA-256 of the rankings and float bits of every fusion of a full
 * grid (rrf, wrrf, convex × three normalizations × 11 α, both levels) over 20 seeded random candidate sets (ties,
 * chunks missing an exact dense score, several chunks per document) at four depths. The hash was computed with the
 * code before fusion became an interface (commit 8fb49e5), so a refactoring that moves one float bit fails here.
 */
class FusionBitsTest {
  static final String BEFORE_INTERFACE = "cdc7567ea233f71fd9ce20ad63546372ac0bdac7299b248ffd01fbf0fdefb8e2";

  @Test
  void twoSignalFusionsAreBitIdenticalToThePreInterfaceCode() throws Exception {
    TuningConfig cfg = new TuningConfig("", "x", "", "nDCG@10", List.of("rrf", "wrrf", "convex"),
        List.of("minmax", "zscore", "tmm"), List.of("chunk", "doc"),
        List.of(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0), List.of(1, 10, 30, 60, 100),
        List.of(5), List.of(1), 0, 0, 0.001, 1, false);
    List<FusionSpec> fusions = FusionTuner.fusions(cfg);
    StringBuilder out = new StringBuilder();
    Random rnd = new Random(7);
    for (int t = 0; t < 20; t++) {
      boolean noVectors = t % 5 == 4;
      int na = 1 + rnd.nextInt(30);
      int nb = 1 + rnd.nextInt(30);
      List<ScoredChunk> ann = ranking(rnd, na, 1f, 0.01f);
      List<ScoredChunk> bm = ranking(rnd, nb, 20f, 0.7f);
      Candidates c = Candidates.union(List.of(Candidates.Source.dense("dense", -1f),
          Candidates.Source.lexical("bm25")), List.of(ann, bm));
      int[] docs = new int[c.size()];
      for (int i = 0; i < c.size(); i++) {
        if (!noVectors) {
          c.setScore("dense", i, rnd.nextInt(4) == 0 ? 0.25f : (float) rnd.nextGaussian());
        }
        if (Float.isNaN(c.score("bm25", i))) {
          c.setScore("bm25", i, rnd.nextInt(3) == 0 ? 0f : (float) (rnd.nextDouble() * 5));
        }
        docs[i] = c.id(i) / 3;
      }
      c.setDocuments(docs);
      for (int depth : new int[] {1, 3, 10, 100}) {
        Candidates d = c.truncate(depth);
        out.append("case ").append(t).append(" depth ").append(depth).append(" n ").append(d.size()).append('\n');
        out.append(" bm25 ").append(bits(d.rankBy("bm25"))).append('\n');
        out.append(" dense ").append(bits(d.rankBy("dense"))).append('\n');
        for (FusionSpec f : fusions) {
          out.append(' ').append(f).append(' ').append(bits(d.fuse(f))).append('\n');
        }
      }
    }
    byte[] sha = MessageDigest.getInstance("SHA-256").digest(out.toString().getBytes(StandardCharsets.UTF_8));
    assertThat(HexFormat.of().formatHex(sha)).isEqualTo(BEFORE_INTERFACE);
  }

  /** A first-stage ranking of up to n distinct chunks (3 shards, ids below 50), scores falling in steps (ties). */
  static List<ScoredChunk> ranking(Random rnd, int n, float top, float step) {
    Set<Long> used = new HashSet<>();
    List<ScoredChunk> out = new ArrayList<>();
    float s = top;
    for (int i = 0; i < n; i++) {
      int id = rnd.nextInt(50);
      int sh = rnd.nextInt(3);
      if (used.add(((long) sh << 32) | id)) {
        s -= rnd.nextInt(3) * step;
        out.add(new ScoredChunk(sh, id, s));
      }
    }
    return out;
  }

  static String bits(List<ScoredChunk> l) {
    StringBuilder b = new StringBuilder();
    for (ScoredChunk x : l) {
      b.append(x.shard()).append('/').append(x.id()).append(':')
          .append(Integer.toHexString(Float.floatToRawIntBits(x.score()))).append(' ');
    }
    return b.toString();
  }
}
