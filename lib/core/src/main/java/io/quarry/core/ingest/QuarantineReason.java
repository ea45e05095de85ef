package io.quarry.core.ingest;

import java.util.Locale;

/** Why an input record was quarantined instead of indexed. The {@link #code()} goes to the quarantine dataset. */
public enum QuarantineReason {
  /** The line is not a JSON object. */
  MALFORMED_JSON,
  /**
   * The line holds more than one JSON value, or junk after the object (e.g. two records on one line): nothing of it
   * is indexed, so no record is lost without a trace.
   */
  TRAILING_DATA,
  /** The id field is absent, null, blank or not a string/number. */
  MISSING_ID,
  /** The text field is absent, null or not a string. */
  MISSING_TEXT,
  /** The text is empty or whitespace only. */
  EMPTY_TEXT,
  /** Another record with the same id came first (in file order); only the first is kept. */
  DUPLICATE_ID,
  /** The bytes are not valid UTF-8. */
  INVALID_UTF8,
  /**
   * The id, title or text holds an unpaired UTF-16 surrogate (a JSON escape such as {@code \\ud800} without its
   * pair): it has no UTF-8 encoding and would silently become {@code ?} downstream.
   */
  INVALID_UNICODE,
  /**
   * The id cannot be written to a TREC run (it contains whitespace), so the document could never be evaluated.
   */
  INVALID_ID,
  /** The text is longer than {@code input.maxDocChars}, or the raw record is too large to read. */
  OVERSIZE,
  /**
   * A valid document for which the embedding model's tokenizer produced no token at all (e.g. only combining marks
   * that an uncased model's normalizer strips): it would have no chunk, so it could never be retrieved.
   */
  NO_TOKENS,
  /** A file or row that could not be read at all (corrupt compressed stream, unreadable Parquet row). */
  UNREADABLE;

  /** Lower-case name, e.g. {@code malformed_json}: the value stored in the quarantine {@code reason} column. */
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }
}
