package io.quarry.embed;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.chunk.TokenSpans;
import io.quarry.core.config.EmbeddingConfig;
import org.junit.jupiter.api.Test;

class HfTokenizerTest {
  private final HfTokenizer tok = HfTokenizer.forModel(new EmbeddingConfig("bge-small-en-v1.5-q", "", 1, 512, 1));

  @Test
  void spansPointAtTheTokensInTheText() {
    String text = "Protein folding in the ER.";
    TokenSpans s = tok.tokenize(text);
    assertThat(s.size()).isEqualTo(6); // protein folding in the er .
    assertThat(text.substring(s.start(0), s.end(0))).isEqualTo("Protein");
    assertThat(text.substring(s.start(5), s.end(5))).isEqualTo(".");
  }

  @Test
  void noSpecialTokensAndNoTruncation() {
    String text = "cell ".repeat(2000);
    assertThat(tok.countTokens(text)).isEqualTo(2000);
    assertThat(tok.countTokens("")).isZero();
  }

  @Test
  void offsetsAreUtf16EvenWithAccentsAndSupplementaryCharacters() {
    String text = "naïve café 😀 𝛼-helix résumé end";
    TokenSpans s = tok.tokenize(text);
    assertThat(text.substring(s.start(s.size() - 1), s.end(s.size() - 1))).isEqualTo("end");
    for (int i = 0; i < s.size(); i++) {
      assertThat(s.end(i)).isLessThanOrEqualTo(text.length());
      if (i > 0) {
        assertThat(s.start(i)).isGreaterThanOrEqualTo(s.start(i - 1));
      }
    }
    int e = -1;
    for (int i = 0; i < s.size(); i++) {
      if (text.substring(s.start(i), s.end(i)).equals("helix")) {
        e = i;
      }
    }
    assertThat(e).as("token 'helix' found at its UTF-16 position").isGreaterThan(0);
  }
}
