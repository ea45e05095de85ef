package io.quarry.jobs.chunk;

import io.quarry.jobs.SerializableConf;
import io.quarry.core.config.InputConfig;
import io.quarry.core.ingest.ByteLineReader;
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
 * {@link IngestRows}, lazily, one line (JSONL) or one file (text formats) at a time. A read error in the middle of
 * a file (corrupt compressed stream) becomes one {@code unreadable} quarantine record at the line reached; the rest
 * of that file is skipped and the job goes on.
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
    } catch (IOException e) {
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

    JsonLines(String file) throws IOException {
      this.file = file;
      this.parser = "beir".equals(input.format())
          ? JsonDocumentParser.beir(input.maxDocChars())
          : new JsonDocumentParser(input.idField(), input.titleField(), input.textField(), input.maxDocChars());
      this.in = InputFiles.open(file, conf.get());
      this.reader = new ByteLineReader(in,
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
      } catch (IOException e) {
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
      next = IngestRows.of(parser.parse(line, source), file, reader.lineNumber());
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

  private static boolean isBlank(byte[] line) {
    for (byte b : line) {
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }
}
