package io.quarry.core.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class RrfTest {
  @Test
  void fusesByReciprocalRank() {
    ScoredChunk a = new ScoredChunk(0, 1, 9);
    ScoredChunk b = new ScoredChunk(0, 2, 8);
    ScoredChunk c = new ScoredChunk(1, 1, 7);
    List<ScoredChunk> fused = Rrf.fuse(List.of(List.of(a, b), List.of(c, b)), 60);
    assertThat(fused).extracting(ScoredChunk::key).containsExactly(b.key(), a.key(), c.key());
    assertThat(fused.get(0).score()).isCloseTo((float) (2.0 / 62), within(1e-7f));
    assertThat(fused.get(1).score()).isCloseTo((float) (1.0 / 61), within(1e-7f));
  }

  @Test
  void tiesBrokenByShardThenId() {
    ScoredChunk a = new ScoredChunk(1, 0, 1);
    ScoredChunk b = new ScoredChunk(0, 5, 1);
    List<ScoredChunk> fused = Rrf.fuse(List.of(List.of(a), List.of(b)), 60);
    assertThat(fused).extracting(ScoredChunk::shard).containsExactly(0, 1);
  }
}
