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
 */
public record ChunkingConfig(String method, int maxTokens, int overlapTokens, boolean prependTitle)
    implements ConfigSection {

  public static final Set<String> METHODS = Set.of("token", "recursive");

  @Override
  public void validate(String path, Violations v) {
    v.check(METHODS.contains(method), path + ".method", "must be one of " + METHODS + ", got '" + method + "'");
    v.positive(maxTokens, path + ".maxTokens");
    v.check(overlapTokens >= 0 && overlapTokens < maxTokens, path + ".overlapTokens",
        "must be >= 0 and < maxTokens (" + maxTokens + "), got " + overlapTokens);
  }
}
