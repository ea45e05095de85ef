package io.quarry.core.segment;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** SHA-256 helpers for manifest file entries. */
public final class Checksums {
  private Checksums() {}

  /** A fresh SHA-256 digest. */
  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Lower-case hex SHA-256 of a file's bytes. */
  public static String sha256(Path file) throws IOException {
    MessageDigest md = sha256();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      int r;
      while ((r = in.read(buf)) > 0) {
        md.update(buf, 0, r);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** Lower-case hex SHA-256 of bytes. */
  public static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(sha256().digest(bytes));
  }

  /**
   * File entries for every regular file under {@code dir}, paths relative to {@code base} with {@code /}, sorted by
   * path (so the list is deterministic).
   */
  public static List<IndexManifest.FileEntry> list(Path base, Path dir) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    List<IndexManifest.FileEntry> out = new ArrayList<>();
    for (Path f : files) {
      String rel = base.relativize(f).toString().replace('\\', '/');
      out.add(new IndexManifest.FileEntry(rel, Files.size(f), sha256(f)));
    }
    out.sort(java.util.Comparator.comparing(IndexManifest.FileEntry::path));
    return out;
  }

  /**
   * Verifies that {@code file} has the size and SHA-256 the manifest lists.
   *
   * @throws CorruptIndexFileException naming the file on a mismatch or if it is missing
   */
  public static void verify(Path versionDir, IndexManifest.FileEntry e) throws IOException {
    Path f = resolveInside(versionDir, e.path());
    if (!Files.isRegularFile(f)) {
      throw new CorruptIndexFileException(f.toString(), "missing (listed in the manifest)");
    }
    long size = Files.size(f);
    if (size != e.bytes()) {
      throw new CorruptIndexFileException(f.toString(), "size " + size + " bytes, manifest says " + e.bytes());
    }
    String sum = sha256(f);
    if (!sum.equals(e.sha256())) {
      throw new CorruptIndexFileException(f.toString(), "sha256 " + sum + ", manifest says " + e.sha256());
    }
  }

  /**
   * Resolves a manifest-relative path inside {@code dir}, refusing absolute paths and {@code ..} escapes.
   *
   * @throws CorruptIndexFileException if the path leaves {@code dir}
   */
  public static Path resolveInside(Path dir, String rel) throws CorruptIndexFileException {
    Path base = dir.toAbsolutePath().normalize();
    Path p = base.resolve(rel).normalize();
    if (rel.startsWith("/") || rel.contains("\\") || !p.startsWith(base)) {
      throw new CorruptIndexFileException(rel, "path escapes the index version directory");
    }
    return p;
  }
}
