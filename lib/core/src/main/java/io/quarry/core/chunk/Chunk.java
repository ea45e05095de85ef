package io.quarry.core.chunk;

/**
 * One chunk of a document: the exact source substring {@code documentText.substring(startChar, endChar)}.
 *
 * @param docId id of the source document
 * @param ordinal 0-based position of the chunk in its document
 * @param title the document title, or null
 * @param text the chunk's exact source substring
 * @param startChar start offset in the document text (UTF-16 chars, inclusive)
 * @param endChar end offset in the document text (UTF-16 chars, exclusive)
 * @param nTokens tokens of the chunk text in the model's tokenizer, special tokens excluded
 */
public record Chunk(String docId, int ordinal, String title, String text, int startChar, int endChar, int nTokens) {

  /** Separator between document id and ordinal in a chunk id. */
  public static final char ID_SEPARATOR = '#';

  /** The chunk id, {@code <docId>#<ordinal>}: stable across runs of the same input and config. */
  public String chunkId() {
    return id(docId, ordinal);
  }

  /** {@code <docId>#<ordinal>}. */
  public static String id(String docId, int ordinal) {
    return docId + ID_SEPARATOR + ordinal;
  }

  /**
   * The document id of a chunk id (everything before the last {@code #}).
   *
   * @throws IllegalArgumentException if {@code chunkId} has no {@code #}
   */
  public static String docIdOf(String chunkId) {
    int i = chunkId.lastIndexOf(ID_SEPARATOR);
    if (i < 0) {
      throw new IllegalArgumentException("not a chunk id (no '#'): " + chunkId);
    }
    return chunkId.substring(0, i);
  }

  /**
   * The text to embed for this chunk: the title, a blank line and the text when {@code prependTitle} and the title
   * is non-blank; the text alone otherwise.
   */
  public static String embeddingText(String title, String text, boolean prependTitle) {
    if (prependTitle && title != null && !title.isBlank()) {
      return title.strip() + "\n\n" + text;
    }
    return text;
  }
}
