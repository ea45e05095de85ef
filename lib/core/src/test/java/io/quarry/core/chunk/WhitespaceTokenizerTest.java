package io.quarry.core.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WhitespaceTokenizerTest {
  @Test
  void wordsAndPunctuation() {
    String t = " Hello, wörld 😀x!";
    TokenSpans s = new WhitespaceTokenizer().tokenize(t);
    assertThat(s.size()).isEqualTo(6);
    assertThat(t.substring(s.start(0), s.end(0))).isEqualTo("Hello");
    assertThat(t.substring(s.start(1), s.end(1))).isEqualTo(",");
    assertThat(t.substring(s.start(2), s.end(2))).isEqualTo("wörld");
    assertThat(t.substring(s.start(3), s.end(3))).isEqualTo("😀");
    assertThat(s.firstTokenEndingAfter(0)).isZero();
    assertThat(s.firstTokenEndingAfter(6)).isEqualTo(1);
  }
}
