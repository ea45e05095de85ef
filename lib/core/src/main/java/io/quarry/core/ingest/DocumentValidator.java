package io.quarry.core.ingest;

/**
 * The checks every reader applies to a record's fields once they are extracted: id present, text present and not
 * blank, text not longer than {@code maxDocChars}. Duplicate ids are a dataset-level check done by the reader's
 * caller (first occurrence in file/line order wins).
 */
public final class DocumentValidator {
  private final long maxDocChars;

  /**
   * @param maxDocChars longest accepted text in UTF-16 chars (&gt; 0)
   * @throws IllegalArgumentException if {@code maxDocChars} &le; 0
   */
  public DocumentValidator(long maxDocChars) {
    if (maxDocChars <= 0) {
      throw new IllegalArgumentException("maxDocChars must be > 0, got " + maxDocChars);
    }
    this.maxDocChars = maxDocChars;
  }

  public long maxDocChars() {
    return maxDocChars;
  }

  /**
   * Validates extracted fields.
   *
   * @param id the id or null
   * @param title the title or null (a blank title becomes null)
   * @param text the text or null
   * @param source {@code file:line}
   * @param raw the raw record for the quarantine output
   */
  public ParseResult validate(String id, String title, String text, String source, String raw) {
    if (id == null || id.isBlank()) {
      return new ParseResult.Quarantined(QuarantineReason.MISSING_ID, source, null, "no document id", raw);
    }
    if (text == null) {
      return new ParseResult.Quarantined(QuarantineReason.MISSING_TEXT, source, id, "no text", raw);
    }
    if (text.isBlank()) {
      return new ParseResult.Quarantined(QuarantineReason.EMPTY_TEXT, source, id, "text is empty or whitespace", raw);
    }
    if (text.length() > maxDocChars) {
      return new ParseResult.Quarantined(QuarantineReason.OVERSIZE, source, id,
          "text has " + text.length() + " chars, more than input.maxDocChars=" + maxDocChars, raw);
    }
    return new Document(id, title == null || title.isBlank() ? null : title, text, source);
  }
}
