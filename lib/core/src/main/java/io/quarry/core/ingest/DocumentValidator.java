package io.quarry.core.ingest;

import io.quarry.core.eval.TrecRunFormat;

/**
 * The checks every reader applies to a record's fields once they are extracted: id present and writable to a TREC
 * run (no whitespace, {@link TrecRunFormat#isValidToken}), id/title/text free of unpaired UTF-16 surrogates, text
 * present and holding at least one visible character (not only whitespace, zero-width/format or control
 * characters), text not longer than {@code maxDocChars}. Duplicate ids are a dataset-level check done by the reader's
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
   * @return the document, or a quarantined record with reason {@code missing_id}, {@code invalid_id},
   *     {@code invalid_unicode}, {@code missing_text}, {@code empty_text} or {@code oversize}
   */
  public ParseResult validate(String id, String title, String text, String source, String raw) {
    if (id == null || id.isBlank()) {
      return new ParseResult.Quarantined(QuarantineReason.MISSING_ID, source, null, "no document id", raw);
    }
    if (!TrecRunFormat.isValidToken(id)) {
      return new ParseResult.Quarantined(QuarantineReason.INVALID_ID, source, id,
          "document id contains whitespace: a TREC run (evaluation) cannot carry it", raw);
    }
    String bad = firstLoneSurrogate(id, title, text);
    if (bad != null) {
      return new ParseResult.Quarantined(QuarantineReason.INVALID_UNICODE, source, id, bad, raw);
    }
    if (text == null) {
      return new ParseResult.Quarantined(QuarantineReason.MISSING_TEXT, source, id, "no text", raw);
    }
    if (text.isBlank()) {
      return new ParseResult.Quarantined(QuarantineReason.EMPTY_TEXT, source, id, "text is empty or whitespace", raw);
    }
    if (!hasVisibleChar(text)) {
      return new ParseResult.Quarantined(QuarantineReason.EMPTY_TEXT, source, id,
          "text has only whitespace, zero-width/format or control characters (nothing to tokenize)", raw);
    }
    if (text.length() > maxDocChars) {
      return new ParseResult.Quarantined(QuarantineReason.OVERSIZE, source, id,
          "text has " + text.length() + " chars, more than input.maxDocChars=" + maxDocChars, raw);
    }
    return new Document(id, title == null || title.isBlank() ? null : title, text, source);
  }

  /**
   * Whether {@code text} has a code point that is not whitespace, a space separator, a format character
   * (zero-width space/joiners, BOM, ...: Unicode category Cf) or a control character (Cc).
   */
  static boolean hasVisibleChar(String text) {
    return text.codePoints().anyMatch(cp -> !Character.isWhitespace(cp) && !Character.isSpaceChar(cp)
        && Character.getType(cp) != Character.FORMAT && Character.getType(cp) != Character.CONTROL);
  }

  /** A description of the first unpaired surrogate among the fields (null ones skipped), or null if none. */
  static String firstLoneSurrogate(String id, String title, String text) {
    String[] names = {"id", "title", "text"};
    String[] values = {id, title, text};
    for (int f = 0; f < values.length; f++) {
      String s = values[f];
      if (s == null) {
        continue;
      }
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else if (Character.isSurrogate(c)) {
          return String.format("%s has an unpaired UTF-16 surrogate U+%04X at char %d", names[f], (int) c, i);
        }
      }
    }
    return null;
  }
}
