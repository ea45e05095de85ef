package io.quarry.core.chunk;

import java.util.ArrayList;
import java.util.List;

/**
 * Fixed windows of {@code maxTokens} model tokens, consecutive windows sharing {@code overlapTokens} tokens (the
 * sliding-window chunking of most RAG pipelines). Window {@code j} covers tokens
 * {@code [j*(maxTokens-overlapTokens), min(n, j*(maxTokens-overlapTokens)+maxTokens))}; the last window ends at the
 * last token. The chunk text runs from the first character of its first token to the last character of its last
 * token, so it is an exact substring of the document.
 */
public final class TokenWindowChunker implements Chunker {
  private final Tokenizer tokenizer;
  private final int maxTokens;
  private final int overlapTokens;

  /**
   * @param tokenizer the embedding model's tokenizer
   * @param maxTokens tokens per window, special tokens excluded (&gt; 0)
   * @param overlapTokens tokens shared by consecutive windows (0 &le; overlap &lt; maxTokens)
   * @throws IllegalArgumentException if the bounds do not hold
   */
  public TokenWindowChunker(Tokenizer tokenizer, int maxTokens, int overlapTokens) {
    Chunker.checkBounds(maxTokens, overlapTokens);
    this.tokenizer = tokenizer;
    this.maxTokens = maxTokens;
    this.overlapTokens = overlapTokens;
  }

  @Override
  public List<Chunk> chunk(String docId, String title, String text) {
    TokenSpans spans = tokenizer.tokenize(text);
    int n = spans.size();
    List<Chunk> out = new ArrayList<>();
    int step = maxTokens - overlapTokens;
    for (int s = 0; s < n; s += step) {
      int e = Math.min(n, s + maxTokens);
      out.add(make(docId, title, text, spans, out.size(), s, e));
      if (e == n) {
        break;
      }
    }
    return out;
  }

  /** The chunk covering tokens {@code [fromToken, toToken)}. */
  static Chunk make(String docId, String title, String text, TokenSpans spans, int ordinal, int fromToken,
      int toToken) {
    int a = spans.start(fromToken);
    int b = spans.end(toToken - 1);
    return new Chunk(docId, ordinal, title, text.substring(a, b), a, b, toToken - fromToken);
  }
}
