package io.quarry.lexical;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.search.ScoredChunk;
import io.quarry.core.segment.CorruptIndexFileException;
import io.quarry.core.segment.ShardEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Bm25ShardTest {
  @TempDir Path tmp;

  static ShardEntry e(String id, String title, String text) {
    return new ShardEntry(id, id.split("#")[0], 0, 3, 3 + text.length(), title, text, 0, new byte[0], new float[0]);
  }

  @Test
  void englishAnalysisStemsAndDropsStopwords() throws Exception {
    List<ShardEntry> es = List.of(
        e("a#0", "Running", "The mice were running through the mazes."),
        e("b#0", "", "A mouse runs in a maze."),
        e("c#0", "Unrelated", "Quantum chromodynamics of gluons."));
    Bm25ShardWriter.write(tmp, es, 0.9, 0.4);
    assertThat(Files.exists(tmp.resolve("bm25/write.lock"))).isFalse();
    try (Bm25Shard s = new Bm25Shard(tmp, 0, 3, 0.9, 0.4)) {
      // Porter: running/runs -> run, mazes/maze -> maze; "the" is a stopword
      assertThat(s.terms("The running mazes")).containsOnlyKeys("run", "maze");
      List<ScoredChunk> hits = s.search("run maze", 10);
      assertThat(hits).extracting(ScoredChunk::id).containsExactlyInAnyOrder(0, 1);
      assertThat(s.search("gluon", 10)).extracting(ScoredChunk::id).containsExactly(2);
      assertThat(s.search("the of a", 10)).isEmpty();
      assertThat(s.text(1)).isEqualTo("A mouse runs in a maze.");
      // the title is searchable too
      assertThat(s.search("unrelated", 10)).extracting(ScoredChunk::id).containsExactly(2);
    }
  }

  @Test
  void k1AndBChangeScores() throws Exception {
    List<ShardEntry> es = new ArrayList<>();
    es.add(e("a#0", "", "apple apple apple banana"));
    es.add(e("b#0", "", "apple cherry cherry cherry cherry cherry cherry cherry cherry"));
    es.add(e("c#0", "", "date"));
    Bm25ShardWriter.write(tmp, es, 0.9, 0.4);
    try (Bm25Shard s1 = new Bm25Shard(tmp, 0, 3, 0.9, 0.4);
        Bm25Shard s2 = new Bm25Shard(tmp, 0, 3, 2.0, 1.0)) {
      float a1 = s1.search("apple", 3).get(0).score();
      float a2 = s2.search("apple", 3).get(0).score();
      assertThat(a1).isNotEqualTo(a2);
    }
  }

  @Test
  void restrictedScoringEqualsSearchScoresAndIsZeroWithoutAMatchingTerm() throws Exception {
    List<ShardEntry> es = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      es.add(e("d" + i + "#0", "", (i % 3 == 0 ? "apple " : "") + (i % 5 == 0 ? "banana banana " : "") + "filler "
          + "word" + i));
    }
    Bm25ShardWriter.write(tmp, es, 0.9, 0.4);
    try (Bm25Shard s = new Bm25Shard(tmp, 0, 30, 0.9, 0.4)) {
      List<ScoredChunk> all = s.search("apple banana", 30);
      int[] ids = new int[30];
      for (int i = 0; i < 30; i++) {
        ids[i] = 29 - i; // any order
      }
      float[] scores = s.score("apple banana", ids);
      for (ScoredChunk h : all) {
        int at = 29 - h.id();
        assertThat(scores[at]).isCloseTo(h.score(), org.assertj.core.api.Assertions.within(1e-5f * h.score()));
      }
      // chunks with no query term score 0 (e.g. d1: neither apple nor banana)
      assertThat(scores[29 - 1]).isZero();
      assertThat(all).extracting(ScoredChunk::id).doesNotContain(1);
      assertThat(s.score("the of", new int[] {0, 1})).containsExactly(0f, 0f);
    }
  }

  @Test
  void shardsScoringWithSharedStatisticsScoreLikeOneIndex() throws Exception {
    List<ShardEntry> all = new ArrayList<>();
    List<List<ShardEntry>> parts = List.of(new ArrayList<>(), new ArrayList<>());
    for (int i = 0; i < 40; i++) {
      // "apple" is common in shard 0 and rare in shard 1, so per-shard IDFs differ
      String text = (i % 2 == 0 || i % 7 == 0 ? "apple " : "") + (i % 5 == 0 ? "banana banana " : "") + "filler w" + i;
      ShardEntry e = e("d" + i + "#0", "", text);
      all.add(e);
      parts.get(i % 2).add(e);
    }
    Bm25ShardWriter.write(tmp.resolve("one"), all, 0.9, 0.4);
    Bm25ShardWriter.write(tmp.resolve("s0"), parts.get(0), 0.9, 0.4);
    Bm25ShardWriter.write(tmp.resolve("s1"), parts.get(1), 0.9, 0.4);
    try (Bm25Shard one = new Bm25Shard(tmp.resolve("one"), 0, 40, 0.9, 0.4);
        Bm25Shard s0 = new Bm25Shard(tmp.resolve("s0"), 0, 20, 0.9, 0.4);
        Bm25Shard s1 = new Bm25Shard(tmp.resolve("s1"), 1, 20, 0.9, 0.4)) {
      float alone = s1.search("apple banana", 1).get(0).score();
      Bm25Shard.Stats stats = new Bm25Shard.Stats(List.of(s0, s1));
      s0.useStats(stats);
      s1.useStats(stats);
      java.util.Map<Integer, Float> expected = new java.util.HashMap<>();
      for (ScoredChunk h : one.search("apple banana", 40)) {
        expected.put(h.id(), h.score()); // local id in "one" = i
      }
      int checked = 0;
      for (int sh = 0; sh < 2; sh++) {
        Bm25Shard s = sh == 0 ? s0 : s1;
        for (ScoredChunk h : s.search("apple banana", 20)) {
          int i = 2 * h.id() + sh; // shard-local id j of shard sh is document 2j + sh
          assertThat(h.score()).isCloseTo(expected.get(i), org.assertj.core.api.Assertions.within(1e-5f));
          assertThat(s.score("apple banana", new int[] {h.id()})[0]).isEqualTo(h.score());
          checked++;
        }
      }
      assertThat(checked).isEqualTo(expected.size());
      // without the shared statistics shard 1 scores on its own IDF, i.e. differently
      assertThat(alone).isNotCloseTo(s1.search("apple banana", 1).get(0).score(),
          org.assertj.core.api.Assertions.within(1e-3f));
    }
  }

  @Test
  void tombstonedChunksAreNeverReturnedAndDoNotCountInTheStatistics() throws Exception {
    List<ShardEntry> all = new ArrayList<>();
    List<ShardEntry> live = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String text = (i % 3 == 0 ? "apple " : "") + (i < 10 ? "banana banana cherry " : "") + "filler w" + i;
      ShardEntry e = e("d" + i + "#0", "", text);
      all.add(e);
      if (i >= 10) {
        live.add(e);
      }
    }
    List<String> deleted = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      deleted.add("d" + i);
    }
    Bm25ShardWriter.write(tmp.resolve("all"), all, 0.9, 0.4);
    Bm25ShardWriter.write(tmp.resolve("live"), live, 0.9, 0.4);
    try (Bm25Shard withTombstones = new Bm25Shard(tmp.resolve("all"), 0, 30, 0.9, 0.4, deleted);
        Bm25Shard liveOnly = new Bm25Shard(tmp.resolve("live"), 0, 20, 0.9, 0.4);
        Bm25Shard ignoringTombstones = new Bm25Shard(tmp.resolve("all"), 0, 30, 0.9, 0.4)) {
      List<ScoredChunk> a = withTombstones.search("apple banana filler", 30);
      List<ScoredChunk> b = liveOnly.search("apple banana filler", 30);
      assertThat(a).hasSize(b.size());
      for (int j = 0; j < a.size(); j++) {
        assertThat(a.get(j).id()).isEqualTo(b.get(j).id() + 10); // live chunk i is id i in "all", i - 10 in "live"
        assertThat(a.get(j).score()).isEqualTo(b.get(j).score());
        assertThat(withTombstones.score("apple banana filler", new int[] {a.get(j).id()})[0])
            .isEqualTo(a.get(j).score());
      }
      // a term only deleted chunks contain matches nothing
      assertThat(withTombstones.search("cherry", 10)).isEmpty();
      // without subtracting the tombstones the scores would differ
      assertThat(ignoringTombstones.search("apple", 1).get(0).score())
          .isNotEqualTo(liveOnly.search("apple", 1).get(0).score());
    }
  }

  @Test
  void countMismatchIsCorruption() throws Exception {
    Bm25ShardWriter.write(tmp, List.of(e("a#0", "", "x")), 0.9, 0.4);
    assertThatThrownBy(() -> new Bm25Shard(tmp, 0, 2, 0.9, 0.4)).isInstanceOf(CorruptIndexFileException.class)
        .hasMessageContaining("1 Lucene docs, manifest says 2");
    assertThatThrownBy(() -> new Bm25Shard(tmp.resolve("nope"), 0, 1, 0.9, 0.4))
        .hasMessageContaining("BM25 index directory missing");
  }
}
