package io.quarry.core.ingest;

/** The outcome of reading one input record: a {@link Document} or a {@link Quarantined} record. */
public sealed interface ParseResult permits Document, ParseResult.Quarantined {

  /**
   * A record that is not indexed.
   *
   * @param reason why
   * @param source {@code <file>:<line>} (or {@code <file>} / {@code <file>#<row>})
   * @param docId the record's id when it could be read, else null
   * @param detail a human-readable explanation (e.g. the JSON parser's message)
   * @param raw the record as read, cut to {@link #MAX_RAW_CHARS} chars (invalid bytes replaced by U+FFFD)
   */
  record Quarantined(QuarantineReason reason, String source, String docId, String detail, String raw)
      implements ParseResult {
    /** Longest raw excerpt kept in the quarantine dataset. */
    public static final int MAX_RAW_CHARS = 2000;

    public Quarantined {
      if (raw != null && raw.length() > MAX_RAW_CHARS) {
        raw = raw.substring(0, MAX_RAW_CHARS);
      }
    }
  }
}
