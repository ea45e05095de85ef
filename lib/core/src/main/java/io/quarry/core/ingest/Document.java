package io.quarry.core.ingest;

/**
 * One input document, validated.
 *
 * @param id document id (non-blank)
 * @param title title, or null when the input has none
 * @param text document text (non-blank, at most {@code input.maxDocChars} UTF-16 chars)
 * @param source where it was read, {@code <file>:<line>} for line-oriented inputs, {@code <file>} or
 *     {@code <file>#<row>} otherwise
 */
public record Document(String id, String title, String text, String source) implements ParseResult {}
