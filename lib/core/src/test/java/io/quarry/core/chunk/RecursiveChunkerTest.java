package io.quarry.core.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RecursiveChunkerTest {
  private final Tokenizer tok = new WhitespaceTokenizer();

  @Test
  void keepsParagraphsTogetherWhenTheyFit() {
    String p1 = "Alpha beta gamma delta.";          // 5 tokens
    String p2 = "Epsilon zeta eta theta iota.";     // 6 tokens
    String p3 = "Kappa lambda mu.";                 // 4 tokens
    String text = p1 + "\n\n" + p2 + "\n\n" + p3;
    List<Chunk> chunks = new RecursiveChunker(tok, 11, 0).chunk("d", null, text);
    assertThat(chunks).extracting(Chunk::text).containsExactly(p1 + "\n\n" + p2, p3);
    assertThat(chunks).extracting(Chunk::nTokens).containsExactly(11, 4);
  }

  @Test
  void splitsLongParagraphsAtSentences() {
    String s1 = "One two three four five.";
    String s2 = "Six seven eight nine ten.";
    String s3 = "Eleven twelve.";
    String text = s1 + " " + s2 + " " + s3; // 6 + 6 + 3 tokens, one paragraph
    List<Chunk> chunks = new RecursiveChunker(tok, 9, 0).chunk("d", null, text);
    assertThat(chunks).extracting(Chunk::text).containsExactly(s1, s2 + " " + s3);
  }

  @Test
  void overlapReusesWholeTrailingSentencesWhenTheyFit() {
    String text = "A b. C d. E f. G h. I j.";     // five 3-token sentences
    List<Chunk> chunks = new RecursiveChunker(tok, 9, 3).chunk("d", null, text);
    assertThat(chunks).extracting(Chunk::text).containsExactly("A b. C d. E f.", "E f. G h. I j.");
  }

  @Test
  void cutsOverlongSentencesIntoWindows() {
    String text = TokenWindowChunkerTest.words(30);  // one 30-token "sentence"
    List<Chunk> chunks = new RecursiveChunker(tok, 10, 2).chunk("d", null, text);
    for (Chunk c : chunks) {
      assertThat(c.nTokens()).isLessThanOrEqualTo(10);
    }
    assertThat(chunks.get(0).text()).startsWith("w0 ");
    assertThat(chunks.get(chunks.size() - 1).text()).endsWith("w29");
  }

  @Test
  void invariantsOnRandomText() {
    Random rnd = new Random(7);
    for (int round = 0; round < 50; round++) {
      StringBuilder sb = new StringBuilder();
      int words = rnd.nextInt(400);
      for (int i = 0; i < words; i++) {
        sb.append("w").append(i);
        int r = rnd.nextInt(20);
        sb.append(r == 0 ? ".\n\n" : r < 3 ? ". " : " ");
      }
      String text = sb.toString();
      int max = 1 + rnd.nextInt(40);
      int overlap = rnd.nextInt(max);
      List<Chunk> chunks = new RecursiveChunker(tok, max, overlap).chunk("d", null, text);
      TokenSpans all = tok.tokenize(text);
      int prevStart = -1;
      int prevEnd = 0;
      for (int i = 0; i < chunks.size(); i++) {
        Chunk c = chunks.get(i);
        assertThat(c.ordinal()).isEqualTo(i);
        assertThat(c.nTokens()).isBetween(1, max);
        assertThat(text.substring(c.startChar(), c.endChar())).isEqualTo(c.text());
        assertThat(tok.countTokens(c.text())).isEqualTo(c.nTokens());
        assertThat(c.startChar()).isGreaterThan(prevStart);
        assertThat(c.startChar()).as("no gap between chunks").isLessThanOrEqualTo(nextTokenStart(all, prevEnd));
        prevStart = c.startChar();
        prevEnd = c.endChar();
      }
      if (all.size() > 0) {
        assertThat(chunks.get(0).startChar()).isEqualTo(all.start(0));
        assertThat(prevEnd).isEqualTo(all.end(all.size() - 1));
      } else {
        assertThat(chunks).isEmpty();
      }
    }
  }

  private static int nextTokenStart(TokenSpans s, int after) {
    int i = s.firstTokenEndingAfter(after);
    return i < s.size() ? s.start(i) : Integer.MAX_VALUE;
  }
}
