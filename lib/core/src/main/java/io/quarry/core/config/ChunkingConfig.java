package io.quarry.core.config;

import java.util.Set;

/**
 * How documents are cut into chunks. Lengths are counted in the embedding model's own tokens.
 *
 * @param method {@code token} (fixed token windows with overlap) or {@code recursive} (paragraph, then sentence,
 *     then token window)
 * @param maxTokens maximum tokens per chunk, excluding the model's special tokens
 * @param overlapTokens tokens shared by consecutive windows; must be &lt; maxTokens
 * @param prependTitle whether the document title is prepended to each chunk's embedded text
 * @param reuseFrom a previous chunks dataset whose chunks are reused for documents with the same document key
 *     ({@code io.quarry.core.chunk.ReuseKey#forDocuments}: tokenizer, chunking parameters, id, title and text):
 *     {@code ""} (or null) = none, {@value #REUSE_AUTO} = the previous content of {@code paths.chunks}, or a path
 */
public record ChunkingConfig(String method, int maxTokens, int overlapTokens, boolean prependTitle,
    String reuseFrom) implements ConfigSection {

  public static final Set<String> METHODS = Set.of("token", "recursive");

  /** {@code reuseFrom} value: reuse the previous content of {@code paths.chunks}. */
  public static final String REUSE_AUTO = EmbeddingConfig.REUSE_AUTO;

  /** Normalizes {@code reuseFrom}: null or blank to {@code ""}, surrounding blanks removed. */
  public ChunkingConfig {
    reuseFrom = reuseFrom == null ? "" : reuseFrom.strip();
  }

  /** Without chunk reuse ({@code reuseFrom = ""}). */
  public ChunkingConfig(String method, int maxTokens, int overlapTokens, boolean prependTitle) {
    this(method, maxTokens, overlapTokens, prependTitle, "");
  }

  @Override
  public void validate(String path, Violations v) {
    v.check(METHODS.contains(method), path + ".method", "must be one of " + METHODS + ", got '" + method + "'");
    v.positive(maxTokens, path + ".maxTokens");
    v.check(overlapTokens >= 0 && overlapTokens < maxTokens, path + ".overlapTokens",
        "must be >= 0 and < maxTokens (" + maxTokens + "), got " + overlapTokens);
  }
}
