package io.quarry.lexical;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.search.ScoredChunk;
import io.quarry.core.segment.CorruptSegmentException;
import io.quarry.core.segment.ShardEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Bm25SegmentTest {
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
    Bm25SegmentWriter.write(tmp, es, 0.9, 0.4);
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
    Bm25SegmentWriter.write(tmp, es, 0.9, 0.4);
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
    Bm25SegmentWriter.write(tmp, es, 0.9, 0.4);
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
  void countMismatchIsCorruption() throws Exception {
    Bm25SegmentWriter.write(tmp, List.of(e("a#0", "", "x")), 0.9, 0.4);
    assertThatThrownBy(() -> new Bm25Shard(tmp, 0, 2, 0.9, 0.4)).isInstanceOf(CorruptSegmentException.class)
        .hasMessageContaining("1 Lucene docs, manifest says 2");
    assertThatThrownBy(() -> new Bm25Shard(tmp.resolve("nope"), 0, 1, 0.9, 0.4))
        .hasMessageContaining("BM25 index directory missing");
  }
}
