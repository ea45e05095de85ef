package io.quarry.core.chunk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TokenWindowChunkerTest {
  private final Tokenizer tok = new WhitespaceTokenizer();

  static String words(int n) {
    return IntStream.range(0, n).mapToObj(i -> "w" + i).collect(Collectors.joining(" "));
  }

  @Test
  void windowsOverlapByTheConfiguredTokensAndCoverEverything() {
    String text = words(25);
    List<Chunk> chunks = new TokenWindowChunker(tok, 10, 3).chunk("d1", "T", text);
    // starts 0, 7, 14, 21(last ends at 25)
    assertThat(chunks).extracting(Chunk::nTokens).containsExactly(10, 10, 10, 4);
    assertThat(chunks.get(0).text()).startsWith("w0 ").endsWith(" w9");
    assertThat(chunks.get(1).text()).startsWith("w7 ").endsWith(" w16");
    assertThat(chunks.get(3).text()).isEqualTo("w21 w22 w23 w24");
    for (Chunk c : chunks) {
      assertThat(text.substring(c.startChar(), c.endChar())).isEqualTo(c.text());
      assertThat(tok.countTokens(c.text())).isEqualTo(c.nTokens());
      assertThat(c.title()).isEqualTo("T");
    }
    assertThat(chunks).extracting(Chunk::chunkId).containsExactly("d1#0", "d1#1", "d1#2", "d1#3");
    assertThat(chunks).extracting(Chunk::ordinal).containsExactly(0, 1, 2, 3);
  }

  @Test
  void shortDocumentIsOneChunkAndEmptyIsNone() {
    assertThat(new TokenWindowChunker(tok, 10, 3).chunk("d", null, "  just three words ")).singleElement()
        .satisfies(c -> {
          assertThat(c.text()).isEqualTo("just three words");
          assertThat(c.startChar()).isEqualTo(2);
          assertThat(c.endChar()).isEqualTo(18);
        });
    assertThat(new TokenWindowChunker(tok, 10, 3).chunk("d", null, "   \n ")).isEmpty();
  }

  @Test
  void exactMultipleDoesNotEmitATrailingOverlapOnlyChunk() {
    List<Chunk> chunks = new TokenWindowChunker(tok, 10, 0).chunk("d", null, words(20));
    assertThat(chunks).extracting(Chunk::nTokens).containsExactly(10, 10);
    chunks = new TokenWindowChunker(tok, 10, 2).chunk("d", null, words(10));
    assertThat(chunks).hasSize(1);
  }

  @Test
  void deterministic() {
    String text = words(1000);
    assertThat(new TokenWindowChunker(tok, 64, 8).chunk("x", "t", text))
        .isEqualTo(new TokenWindowChunker(tok, 64, 8).chunk("x", "t", text));
  }

  @Test
  void rejectsBadBounds() {
    assertThatThrownBy(() -> new TokenWindowChunker(tok, 0, 0)).hasMessageContaining("maxTokens");
    assertThatThrownBy(() -> new TokenWindowChunker(tok, 10, 10)).hasMessageContaining("overlapTokens");
  }

  @Test
  void chunkIdRoundTrip() {
    assertThat(Chunk.docIdOf(Chunk.id("a#b", 7))).isEqualTo("a#b");
    assertThat(Chunk.embeddingText("Title ", "body", true)).isEqualTo("Title\n\nbody");
    assertThat(Chunk.embeddingText("Title", "body", false)).isEqualTo("body");
    assertThat(Chunk.embeddingText(null, "body", true)).isEqualTo("body");
  }
}
