package io.quarry.core.search;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A re-scored top followed by the previous stage's tail: scores never increase, tail order and gaps kept. */
class AppendBelowTest {
  static ScoredChunk c(int id, float s) {
    return new ScoredChunk(0, id, s);
  }

  @Test
  void tailOnAHigherScaleIsShiftedBelowTheTop() {
    // cross-encoder logits (top) then exact inner products (tail) that would otherwise outrank the last logit
    List<ScoredChunk> out = ScoredChunk.appendBelow(List.of(c(1, 3.5f), c(2, 0.25f)),
        List.of(c(3, 0.9f), c(4, 0.7f), c(5, 0.7f)));
    assertThat(out).extracting(ScoredChunk::id).containsExactly(1, 2, 3, 4, 5);
    assertThat(out.get(0).score()).isEqualTo(3.5f);
    assertThat(out.get(1).score()).isEqualTo(0.25f);
    assertThat(out.get(2).score()).isLessThan(0.25f);
    assertThat(out.get(3).score()).isLessThan(out.get(2).score());
    assertThat(out.get(2).score() - out.get(3).score()).isCloseTo(0.2f, org.assertj.core.api.Assertions.within(1e-6f));
    assertThat(out.get(4).score()).isEqualTo(out.get(3).score());
  }

  @Test
  void tailAlreadyBelowIsUnchanged() {
    List<ScoredChunk> tail = List.of(c(3, 0.01f), c(4, 0.005f));
    List<ScoredChunk> out = ScoredChunk.appendBelow(List.of(c(1, 0.8f)), tail);
    assertThat(out.subList(1, 3)).isEqualTo(tail);
    assertThat(ScoredChunk.appendBelow(List.of(), tail)).isEqualTo(tail);
    assertThat(ScoredChunk.appendBelow(tail, List.of())).isEqualTo(tail);
  }
}
