package io.quarry.core.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
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
 * {@code invalid_utf8} (strict decoding), {@code malformed_json}, {@code missing_id}, {@code missing_text},
 * {@code empty_text}, {@code oversize}. BEIR's {@code corpus.jsonl} is the case {@code id=_id, title=title,
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
    if (line.length() > maxRecordChars(validator.maxDocChars())) {
      return new ParseResult.Quarantined(QuarantineReason.OVERSIZE, source, null,
          "record has " + line.length() + " chars, far more than input.maxDocChars=" + validator.maxDocChars(),
          line);
    }
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      return new ParseResult.Quarantined(QuarantineReason.MALFORMED_JSON, source, null,
          e.getOriginalMessage(), line);
    }
    if (node == null || !node.isObject()) {
      return new ParseResult.Quarantined(QuarantineReason.MALFORMED_JSON, source, null,
          "not a JSON object", line);
    }
    JsonNode idNode = node.get(idField);
    String id = idNode != null && (idNode.isTextual() || idNode.isIntegralNumber()) ? idNode.asText() : null;
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
