package io.quarry.serving;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where the server finds index versions: {@link LocalIndexSource} (a directory) or {@link S3IndexSource} (a bucket
 * prefix, downloaded to a local cache). Only ids read from {@code CURRENT} reach a source, never request input.
 */
public interface IndexSource {
  /**
   * The version id {@code CURRENT} names.
   *
   * @throws Unavailable if the source cannot be reached or read
   * @throws IOException if {@code CURRENT} is missing or not a valid id
   */
  String currentVersion() throws IOException;

  /**
   * A local directory holding the complete version (downloaded and checksum-verified if remote).
   *
   * @throws Unavailable if the source cannot be reached or read (retried at the next poll)
   * @throws IOException if the version is missing, incomplete or corrupt
   */
  Path fetch(String version) throws IOException;

  /**
   * The source could not be reached or read (network error, timeout, a server error that persisted through the
   * client's retries, a local I/O error while caching): nothing is known to be wrong with the version, so the reload
   * is tried again at the next poll. Other {@link IOException}s of {@link #currentVersion()} and {@link #fetch} mean
   * the version itself is missing, incomplete or corrupt.
   */
  final class Unavailable extends IOException {
    public Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Human-readable location for logs (may hold local paths; never sent to clients). */
  String describe();

  /**
   * A message made safe to show to HTTP clients: local paths under this source's directories become paths relative
   * to them, and any other absolute path is cut to its last component ({@link ClientMessages#redact}).
   */
  default String redact(String message) {
    return ClientMessages.redact(message);
  }

  /** Checks a version id read from {@code CURRENT}. */
  static String checkVersionId(String v, String where) throws IOException {
    String s = v.trim();
    if (!s.matches("[A-Za-z0-9._-]{1,64}") || s.startsWith(".")) {
      throw new IOException(where + ": does not hold a valid version id: '" + (s.length() > 80 ? s.substring(0, 80)
          : s) + "'");
    }
    return s;
  }
}
