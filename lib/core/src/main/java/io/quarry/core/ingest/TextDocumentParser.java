package io.quarry.core.ingest;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Turns one whole file of a directory input into a {@link Document}: {@code .txt} (text as is, no title),
 * {@code .md}/{@code .markdown} (title = the first {@code # } heading, text as is), {@code .html}/{@code .htm}
 * (via {@link HtmlText}). A compression suffix ({@code .gz}, {@code .bz2}, {@code .zst}, ...) is ignored here (the
 * caller decompresses). The document
 * id is the file's path relative to the input directory. Invalid UTF-8, empty or oversize files are quarantined.
 * Thread-safe.
 */
public final class TextDocumentParser {
  private final DocumentValidator validator;

  /** @param maxDocChars longest accepted text (UTF-16 chars) */
  public TextDocumentParser(long maxDocChars) {
    this.validator = new DocumentValidator(maxDocChars);
  }

  /** Whether a file name (possibly compressed) is one this parser reads. */
  public static boolean accepts(String fileName) {
    String ext = extension(fileName);
    return ext.equals("txt") || ext.equals("md") || ext.equals("markdown") || ext.equals("html")
        || ext.equals("htm");
  }

  /**
   * Parses one file.
   *
   * @param bytes the (decompressed) file content
   * @param id document id (relative path)
   * @param source full path for the quarantine record
   */
  public ParseResult parse(byte[] bytes, String id, String source) {
    if (bytes.length > validator.maxDocChars() * 4 + 1024) {
      return new ParseResult.Quarantined(QuarantineReason.OVERSIZE, source, id,
          "file has " + bytes.length + " bytes, more than input.maxDocChars allows", null);
    }
    String s;
    try {
      s = JsonDocumentParser.decodeStrict(bytes);
    } catch (CharacterCodingException e) {
      return new ParseResult.Quarantined(QuarantineReason.INVALID_UTF8, source, id,
          "not valid UTF-8: " + e.getMessage(), new String(bytes, StandardCharsets.UTF_8));
    }
    if (!s.isEmpty() && s.charAt(0) == '\uFEFF') {
      s = s.substring(1);
    }
    String ext = extension(source);
    String title = null;
    String text = s;
    switch (ext) {
      case "html", "htm" -> {
        HtmlText.Result r = HtmlText.convert(s);
        title = r.title();
        text = r.text();
      }
      case "md", "markdown" -> {
        for (String line : s.split("\n", 50)) {
          if (line.startsWith("# ")) {
            title = line.substring(2).strip();
            break;
          }
        }
      }
      default -> { }
    }
    return validator.validate(id, title, text, source, s);
  }

  static String extension(String fileName) {
    String n = fileName.toLowerCase(Locale.ROOT);
    for (String z : new String[] {".gz", ".bz2", ".deflate", ".zst", ".zstd", ".lz4", ".snappy"}) {
      if (n.endsWith(z)) {
        n = n.substring(0, n.length() - z.length());
        break;
      }
    }
    int slash = n.lastIndexOf('/');
    int dot = n.lastIndexOf('.');
    return dot > slash ? n.substring(dot + 1) : "";
  }
}
