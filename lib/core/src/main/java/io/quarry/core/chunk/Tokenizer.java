package io.quarry.core.chunk;

/**
 * Splits text into the tokens of an embedding model, reporting where each token sits in the text. The chunker
 * counts lengths and overlaps with it, so that chunk sizes are measured in the model's own tokens.
 *
 * <p>Implementations: {@code io.quarry.embed.HfTokenizer} (the model's Hugging Face {@code tokenizer.json}, via DJL)
 * and {@link WhitespaceTokenizer} (tests, or models without a tokenizer). Implementations must be thread-safe.
 */
public interface Tokenizer {

  /**
   * Tokenizes {@code text} without special tokens ({@code [CLS]}, {@code [SEP]}), truncation or padding.
   *
   * @param text any text, possibly empty
   * @return one span per token, in order; offsets are UTF-16 char indices into {@code text}, end exclusive
   */
  TokenSpans tokenize(String text);

  /** Number of tokens of {@code text} (special tokens excluded). */
  default int countTokens(String text) {
    return tokenize(text).size();
  }
}
