package io.quarry.core.chunk;

import io.quarry.core.config.ChunkingConfig;
import java.util.List;

/**
 * Cuts a document into chunks whose lengths are counted in a model's tokens. Implementations are deterministic:
 * the same text and parameters always give the same chunks (so chunk ids are stable), and thread-safe.
 */
public interface Chunker {

  /**
   * Chunks one document.
   *
   * @param docId document id (becomes part of every chunk id)
   * @param title document title or null; copied to every chunk
   * @param text document text; chunks are substrings of it
   * @return chunks in document order, ordinals 0..n-1; empty if the text has no tokens
   */
  List<Chunk> chunk(String docId, String title, String text);

  /**
   * The chunker named by {@code cfg.method()}.
   *
   * @throws IllegalArgumentException for an unknown method
   */
  static Chunker create(ChunkingConfig cfg, Tokenizer tokenizer) {
    return switch (cfg.method()) {
      case "token" -> new TokenWindowChunker(tokenizer, cfg.maxTokens(), cfg.overlapTokens());
      case "recursive" -> new RecursiveChunker(tokenizer, cfg.maxTokens(), cfg.overlapTokens());
      default -> throw new IllegalArgumentException("chunking.method: unknown '" + cfg.method() + "'");
    };
  }

  /**
   * Checks the window bounds every chunker shares.
   *
   * @throws IllegalArgumentException unless {@code maxTokens > 0} and {@code 0 <= overlapTokens < maxTokens}
   */
  static void checkBounds(int maxTokens, int overlapTokens) {
    if (maxTokens <= 0) {
      throw new IllegalArgumentException("maxTokens must be > 0, got " + maxTokens);
    }
    if (overlapTokens < 0 || overlapTokens >= maxTokens) {
      throw new IllegalArgumentException(
          "overlapTokens must be >= 0 and < maxTokens (" + maxTokens + "), got " + overlapTokens);
    }
  }
}
