package io.quarry.core.segment;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Content digests of documents, the change detection of incremental builds (issue 15), and the shard file that
 * records them, {@code docs.tsv}: one line {@code <doc id> TAB <64 hex SHA-256> TAB <chunks>} per document with a
 * chunk in the shard, sorted by doc id (UTF-8, {@code \n}). Listed in the manifest with its size and SHA-256 like every shard file.
 *
 * <p>A document's digest is the SHA-256 of its chunks in {@code chunk_id} order, each as the length-prefixed UTF-8 of
 * chunk id, title and text followed by ordinal, start and end offsets (big-endian int32): two documents with equal
 * digests have the same chunks with the same texts, hence (same model and chunking, checked by the build) the same
 * vectors, codes and BM25 fields. Doc ids and chunk ids must not contain TAB or newline (they are the corpus' ids).
 */
public final class DocumentDigests {
  /** File name in a shard directory. */
  public static final String FILE_NAME = "docs.tsv";

  private DocumentDigests() {}

  /** What the digest of one chunk covers. */
  public record ChunkContent(String chunkId, int ordinal, int startChar, int endChar, String title, String text)
      implements java.io.Serializable {
    /** The content of a segment entry. */
    public static ChunkContent of(ShardEntry e) {
      return new ChunkContent(e.chunkId(), e.ordinal(), e.startChar(), e.endChar(), e.title(), e.text());
    }
  }

  /**
   * The digest of one document.
   *
   * @param chunks all chunks of the document, any order (sorted by chunk id here)
   * @return 64 lower-case hex characters
   */
  public static String digest(List<ChunkContent> chunks) {
    List<ChunkContent> sorted = new ArrayList<>(chunks);
    sorted.sort(Comparator.comparing(ChunkContent::chunkId));
    MessageDigest md = Checksums.sha256();
    for (ChunkContent c : sorted) {
      put(md, c.chunkId());
      put(md, c.title() == null ? "" : c.title());
      put(md, c.text() == null ? "" : c.text());
      putInt(md, c.ordinal());
      putInt(md, c.startChar());
      putInt(md, c.endChar());
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static void put(MessageDigest md, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    putInt(md, b.length);
    md.update(b);
  }

  private static void putInt(MessageDigest md, int v) {
    md.update(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
  }

  /**
   * One document of a shard.
   *
   * @param digest {@link #digest} of its chunks
   * @param chunks its chunks in the shard
   */
  public record Doc(String digest, int chunks) implements java.io.Serializable {}

  /** Digest per document of a shard's entries: doc id → digest and chunk count, sorted by doc id. */
  public static Map<String, Doc> ofEntries(List<ShardEntry> entries) {
    Map<String, List<ChunkContent>> byDoc = new TreeMap<>();
    for (ShardEntry e : entries) {
      byDoc.computeIfAbsent(e.docId(), k -> new ArrayList<>()).add(ChunkContent.of(e));
    }
    Map<String, Doc> out = new TreeMap<>();
    byDoc.forEach((doc, cs) -> out.put(doc, new Doc(digest(cs), cs.size())));
    return out;
  }

  /** Writes {@code shardDir/docs.tsv} for a shard's entries. */
  public static void write(Path shardDir, List<ShardEntry> entries) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Doc> e : ofEntries(entries).entrySet()) {
      if (e.getKey().indexOf('\t') >= 0 || e.getKey().indexOf('\n') >= 0) {
        throw new IllegalArgumentException("doc id contains TAB or newline: '" + e.getKey() + "'");
      }
      sb.append(e.getKey()).append('\t').append(e.getValue().digest()).append('\t')
          .append(e.getValue().chunks()).append('\n');
    }
    Files.createDirectories(shardDir);
    Files.writeString(shardDir.resolve(FILE_NAME), sb.toString(), StandardCharsets.UTF_8);
  }

  /**
   * Parses a {@code docs.tsv} stream.
   *
   * @param name file name for error messages
   * @return doc id → digest and chunk count
   * @throws CorruptIndexFileException on a malformed line
   */
  public static Map<String, Doc> read(InputStream in, String name) throws IOException {
    Map<String, Doc> out = new TreeMap<>();
    BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    String line;
    int n = 0;
    while ((line = r.readLine()) != null) {
      n++;
      String[] f = line.split("\t", -1);
      if (f.length != 3 || f[0].isEmpty() || f[1].length() != 64 || !f[2].matches("[0-9]{1,9}")) {
        throw new CorruptIndexFileException(name, "line " + n + ": expected '<doc id> TAB <64 hex> TAB <chunks>'");
      }
      out.put(f[0], new Doc(f[1], Integer.parseInt(f[2])));
    }
    return out;
  }
}
