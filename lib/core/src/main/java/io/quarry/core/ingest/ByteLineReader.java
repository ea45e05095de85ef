package io.quarry.core.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads lines as raw bytes (so that invalid UTF-8 can be detected per line), splitting on {@code \n} and dropping a
 * trailing {@code \r}. Lines longer than {@code maxLineBytes} are skipped to their end and reported as oversize
 * instead of being buffered. Not thread-safe; does not close the stream.
 */
public final class ByteLineReader {
  private final InputStream in;
  private final int maxLineBytes;
  private final byte[] buf = new byte[1 << 16];
  private int pos;
  private int limit;
  private long lineNumber;
  private long lastLineLength;
  private boolean eof;

  /**
   * @param in the stream (buffering is done here)
   * @param maxLineBytes longest line returned in full (&gt; 0)
   */
  public ByteLineReader(InputStream in, int maxLineBytes) {
    if (maxLineBytes <= 0) {
      throw new IllegalArgumentException("maxLineBytes must be > 0, got " + maxLineBytes);
    }
    this.in = in;
    this.maxLineBytes = maxLineBytes;
  }

  /** 1-based number of the line last returned by {@link #next()}. */
  public long lineNumber() {
    return lineNumber;
  }

  /** Length in bytes of the line last returned (also for an oversize line, whose bytes were not kept). */
  public long lastLineLength() {
    return lastLineLength;
  }

  /**
   * The next line.
   *
   * @return the line's bytes; an empty array for an empty line; {@code null} at end of stream; for a line longer
   *     than {@code maxLineBytes}, its first {@code maxLineBytes} bytes (check {@link #lastLineLength()})
   * @throws IOException from the stream
   */
  public byte[] next() throws IOException {
    if (eof && pos >= limit) {
      return null;
    }
    byte[] line = new byte[256];
    int n = 0;
    long total = 0;
    boolean sawAny = false;
    while (true) {
      if (pos >= limit) {
        limit = in.read(buf, 0, buf.length);
        pos = 0;
        if (limit <= 0) {
          limit = 0;
          eof = true;
          if (!sawAny) {
            return null;
          }
          break;
        }
      }
      sawAny = true;
      int start = pos;
      while (pos < limit && buf[pos] != '\n') {
        pos++;
      }
      int len = pos - start;
      int keep = (int) Math.max(0, Math.min(len, maxLineBytes - total));
      if (keep > 0) {
        if (n + keep > line.length) {
          line = Arrays.copyOf(line, Math.max(n + keep, line.length * 2));
        }
        System.arraycopy(buf, start, line, n, keep);
        n += keep;
      }
      total += len;
      if (pos < limit) {
        pos++; // the '\n'
        break;
      }
    }
    lineNumber++;
    if (n > 0 && line[n - 1] == '\r' && total <= maxLineBytes) {
      n--;
      total--;
    }
    lastLineLength = total;
    return Arrays.copyOf(line, n);
  }

  /** Whether the line last returned was cut at {@code maxLineBytes}. */
  public boolean lastLineTruncated() {
    return lastLineLength > maxLineBytes;
  }
}
