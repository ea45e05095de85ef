package io.quarry.jobs.chunk;

import io.quarry.jobs.SerializableConf;
import io.quarry.core.config.InputConfig;
import io.quarry.core.ingest.ByteLineReader;
import io.quarry.core.ingest.Document;
import io.quarry.core.ingest.JsonDocumentParser;
import io.quarry.core.ingest.ParseResult;
import io.quarry.core.ingest.QuarantineReason;
import io.quarry.core.ingest.TextDocumentParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;

/**
 * Executor side of ingest: reads the input file with index {@code i} of the (sorted) file list into
 * {@link IngestRows}, lazily, one line (JSONL) or one file (text formats) at a time. A file that cannot be opened
 * or decompressed at all (a truncated {@code .bz2}, a codec error) becomes one {@code unreadable} quarantine record
 * whose source is the file; a read error in the middle of a file becomes one {@code unreadable} record at the line
 * reached and the rest of that file is skipped. Either way the job goes on. Documents keep their raw line (cut to
 * {@link ParseResult.Quarantined#MAX_RAW_CHARS}) so that a later duplicate of their id is quarantined with it.
 */
final class ReadInputFile implements FlatMapFunction<Integer, Row> {
  private static final long serialVersionUID = 1L;

  private final List<String> files;
  private final InputConfig input;
  private final SerializableConf conf;

  ReadInputFile(List<String> files, InputConfig input, SerializableConf conf) {
    this.files = List.copyOf(files);
    this.input = input;
    this.conf = conf;
  }

  @Override
  public Iterator<Row> call(Integer i) throws IOException {
    String file = files.get(i);
    if ("text".equals(input.format())) {
      return List.of(readWhole(file)).iterator();
    }
    return new JsonLines(file);
  }

  private Row readWhole(String file) {
    TextDocumentParser p = new TextDocumentParser(input.maxDocChars());
    String id = InputFiles.relativize(input.corpus(), file);
    try (InputStream in = InputFiles.open(file, conf.get())) {
      byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 16, input.maxDocChars() * 4 + 2048));
      return IngestRows.of(p.parse(bytes, id, file), file, 1);
    } catch (IOException | RuntimeException e) {
      return IngestRows.of(new ParseResult.Quarantined(QuarantineReason.UNREADABLE, file, id, e.toString(), null),
          file, 1);
    }
  }

  /** Lazily parsed lines of one JSONL file; blank lines are skipped (not quarantined). */
  private final class JsonLines implements Iterator<Row> {
    private final String file;
    private final JsonDocumentParser parser;
    private final InputStream in;
    private final ByteLineReader reader;
    private Row next;
    private boolean done;

    JsonLines(String file) {
      this.file = file;
      this.parser = "beir".equals(input.format())
          ? JsonDocumentParser.beir(input.maxDocChars())
          : new JsonDocumentParser(input.idField(), input.titleField(), input.textField(), input.maxDocChars());
      InputStream opened = null;
      try {
        opened = InputFiles.open(file, conf.get());
      } catch (IOException | RuntimeException e) {
        // the whole file is one quarantine record, located at the file itself (line 0 sorts it first)
        next = IngestRows.of(new ParseResult.Quarantined(QuarantineReason.UNREADABLE, file, null,
            "cannot open, file skipped: " + e.getMessage(), null), file, 0);
        done = true;
      }
      this.in = opened;
      this.reader = opened == null ? null : new ByteLineReader(opened,
          (int) Math.min(Integer.MAX_VALUE - 16, JsonDocumentParser.maxRecordChars(input.maxDocChars())));
    }

    @Override
    public boolean hasNext() {
      while (next == null && !done) {
        advance();
      }
      return next != null;
    }

    private void advance() {
      byte[] line;
      try {
        line = reader.next();
      } catch (IOException | RuntimeException e) { // codecs throw runtime exceptions on some corrupt streams
        next = IngestRows.of(new ParseResult.Quarantined(QuarantineReason.UNREADABLE,
            file + ":" + (reader.lineNumber() + 1), null, "read error, rest of file skipped: " + e, null),
            file, reader.lineNumber() + 1);
        finish();
        return;
      }
      if (line == null) {
        finish();
        return;
      }
      String source = file + ":" + reader.lineNumber();
      if (reader.lastLineTruncated()) {
        next = IngestRows.of(new ParseResult.Quarantined(QuarantineReason.OVERSIZE, source, null,
            "line has " + reader.lastLineLength() + " bytes, more than input.maxDocChars allows",
            new String(line, 0, Math.min(line.length, 2000), java.nio.charset.StandardCharsets.UTF_8)),
            file, reader.lineNumber());
        return;
      }
      if (isBlank(line)) {
        return;
      }
      ParseResult r = parser.parse(line, source);
      next = r instanceof Document
          ? IngestRows.of(r, file, reader.lineNumber(), excerpt(line)) : IngestRows.of(r, file, reader.lineNumber());
    }

    private void finish() {
      done = true;
      try {
        in.close();
      } catch (IOException e) {
        throw new UncheckedIOException(file + ": close failed", e);
      }
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Row r = next;
      next = null;
      return r;
    }
  }

  /** The line decoded (already checked to be valid UTF-8 for a document), cut to the quarantine excerpt length. */
  private static String excerpt(byte[] line) {
    String s = new String(line, java.nio.charset.StandardCharsets.UTF_8);
    return s.length() <= ParseResult.Quarantined.MAX_RAW_CHARS ? s
        : s.substring(0, ParseResult.Quarantined.MAX_RAW_CHARS);
  }

  private static boolean isBlank(byte[] line) {
    for (byte b : line) {
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }
}
