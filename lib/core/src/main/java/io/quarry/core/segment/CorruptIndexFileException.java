package io.quarry.core.segment;

import java.io.IOException;

/**
 * A file of an index version (a segment file, the manifest, a shard's Lucene {@code bm25/} index) failed a check:
 * wrong magic, codec name, version, length, checksum or count. The message always names the offending file (as
 * Lucene's {@code CorruptIndexException} names its resource).
 */
public final class CorruptIndexFileException extends IOException {
  private static final long serialVersionUID = 1L;
  private final String file;

  /**
   * @param file the file that failed the check (path or name as the reader knows it)
   * @param reason what was wrong, with the expected and actual values
   */
  public CorruptIndexFileException(String file, String reason) {
    super("corrupt index file " + file + ": " + reason);
    this.file = file;
  }

  /** The file that failed the check. */
  public String file() {
    return file;
  }
}
