package io.quarry.core.ingest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Parses one JSON Lines record (a JSON object per line) into a {@link Document}, or says why it is quarantined:
 * {@code invalid_utf8} (strict decoding), {@code malformed_json}, {@code trailing_data} (anything but whitespace
 * after the object, e.g. two objects on one line: the whole line is quarantined, so neither record is lost without
 * a trace), then the field checks of {@link DocumentValidator} ({@code missing_id}, {@code invalid_id},
 * {@code invalid_unicode}, {@code missing_text}, {@code empty_text}, {@code oversize}). A leading UTF-8 byte order
 * mark (U+FEFF, usual on line 1 of files written by Windows tools) is stripped before parsing. BEIR's {@code corpus.jsonl} is the case {@code id=_id, title=title,
 * text=text}. Ids may be JSON strings or integers (BEIR corpora use both); they are kept as strings. Thread-safe.
 */
public final class JsonDocumentParser {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String idField;
  private final String titleField;
  private final String textField;
  private final DocumentValidator validator;

  /**
   * @param idField id field name
   * @param titleField title field name; null or blank for none
   * @param textField text field name
   * @param maxDocChars longest accepted text (UTF-16 chars)
   */
  public JsonDocumentParser(String idField, String titleField, String textField, long maxDocChars) {
    this.idField = idField;
    this.titleField = titleField == null || titleField.isBlank() ? null : titleField;
    this.textField = textField;
    this.validator = new DocumentValidator(maxDocChars);
  }

  /** The BEIR corpus.jsonl layout ({@code _id}, {@code title}, {@code text}). */
  public static JsonDocumentParser beir(long maxDocChars) {
    return new JsonDocumentParser("_id", "title", "text", maxDocChars);
  }

  /**
   * Parses one line.
   *
   * @param line the line's bytes, without the line terminator
   * @param source {@code <file>:<line>} (1-based line)
   * @return a document or a quarantined record; never null
   */
  public ParseResult parse(byte[] line, String source) {
    String s;
    try {
      s = decodeStrict(line);
    } catch (CharacterCodingException e) {
      return new ParseResult.Quarantined(QuarantineReason.INVALID_UTF8, source, null,
          "not valid UTF-8: " + e.getMessage(), new String(line, StandardCharsets.UTF_8));
    }
    return parse(s, source);
  }

  /** Parses one already-decoded line (see {@link #parse(byte[], String)}). */
  public ParseResult parse(String line, String source) {
    if (!line.isEmpty() && line.charAt(0) == '\uFEFF') {
      line = line.substring(1);
    }
    if (line.length() > maxRecordChars(validator.maxDocChars())) {
      return new ParseResult.Quarantined(QuarantineReason.OVERSIZE, source, null,
          "record has " + line.length() + " chars, far more than input.maxDocChars=" + validator.maxDocChars(),
          line);
    }
    JsonNode node;
    try (JsonParser p = JSON.createParser(line)) {
      node = JSON.readTree(p);
      if (node != null && node.isObject()) {
        JsonToken extra;
        try {
          extra = p.nextToken();
        } catch (JsonProcessingException e) {
          extra = JsonToken.NOT_AVAILABLE;
        }
        if (extra != null) {
          long col = p.currentTokenLocation().getColumnNr();
          return new ParseResult.Quarantined(QuarantineReason.TRAILING_DATA, source, idOf(node),
              (extra == JsonToken.START_OBJECT ? "a second JSON object" : "data") + " after the record's object"
                  + (extra == JsonToken.NOT_AVAILABLE ? "" : " at column " + col)
                  + ": one record per line expected, the whole line is quarantined", line);
        }
      }
    } catch (JsonProcessingException e) {
      return new ParseResult.Quarantined(QuarantineReason.MALFORMED_JSON, source, null,
          e.getOriginalMessage(), line);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e); // reading a String does not fail
    }
    if (node == null || !node.isObject()) {
      return new ParseResult.Quarantined(QuarantineReason.MALFORMED_JSON, source, null,
          "not a JSON object", line);
    }
    String id = idOf(node);
    if (id == null) {
      return new ParseResult.Quarantined(QuarantineReason.MISSING_ID, source, null,
          "field '" + idField + "' is missing or not a string/integer", line);
    }
    JsonNode textNode = node.get(textField);
    if (textNode == null || !textNode.isTextual()) {
      return new ParseResult.Quarantined(QuarantineReason.MISSING_TEXT, source, id,
          "field '" + textField + "' is missing or not a string", line);
    }
    String title = null;
    if (titleField != null) {
      JsonNode t = node.get(titleField);
      title = t != null && t.isTextual() ? t.asText() : null;
    }
    return validator.validate(id, title, textNode.asText(), source, line);
  }

  /** The id field as a string (JSON string or integer), or null. */
  private String idOf(JsonNode node) {
    JsonNode idNode = node.get(idField);
    return idNode != null && (idNode.isTextual() || idNode.isIntegralNumber()) ? idNode.asText() : null;
  }

  /**
   * Longest raw record parsed at all: a JSON-escaped text of {@code maxDocChars} chars can take up to 6 chars per
   * char (a six-char unicode escape), plus room for the other fields. Longer records are {@code oversize} without parsing.
   */
  public static long maxRecordChars(long maxDocChars) {
    return maxDocChars * 6 + 4096;
  }

  /**
   * Decodes UTF-8, rejecting malformed and unmappable input (Java's {@code new String(bytes, UTF_8)} would replace
   * them silently).
   *
   * @throws CharacterCodingException on the first invalid byte sequence
   */
  public static String decodeStrict(byte[] bytes) throws CharacterCodingException {
    CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    CharBuffer cb = dec.decode(ByteBuffer.wrap(bytes));
    return cb.toString();
  }
}
