package io.quarry.core.chunk;

import java.util.Arrays;

/**
 * A model-free {@link Tokenizer}: every maximal run of letters/digits is one token, every other non-space character
 * is a token of its own (roughly what BERT's pre-tokenizer does before WordPiece). Used by tests and as a fallback
 * for models whose tokenizer is unavailable. Thread-safe.
 */
public final class WhitespaceTokenizer implements Tokenizer {

  @Override
  public TokenSpans tokenize(String text) {
    int[] starts = new int[16];
    int[] ends = new int[16];
    int n = 0;
    int i = 0;
    int len = text.length();
    while (i < len) {
      int cp = text.codePointAt(i);
      int w = Character.charCount(cp);
      if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
        i += w;
        continue;
      }
      int s = i;
      if (Character.isLetterOrDigit(cp)) {
        while (i < len && Character.isLetterOrDigit(text.codePointAt(i))) {
          i += Character.charCount(text.codePointAt(i));
        }
      } else {
        i += w;
      }
      if (n == starts.length) {
        starts = Arrays.copyOf(starts, n * 2);
        ends = Arrays.copyOf(ends, n * 2);
      }
      starts[n] = s;
      ends[n] = i;
      n++;
    }
    return new TokenSpans(Arrays.copyOf(starts, n), Arrays.copyOf(ends, n));
  }
}
