package io.quarry.core.segment;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The id table of one shard: shard-local id {@code i} → (chunk id, doc id, ordinal, character offsets).
 *
 * <p>Byte layout (codec {@value #CODEC}, version {@value #VERSION}; envelope in {@link SegmentFiles}):
 *
 * <pre>
 * header
 * n:int64
 * ordinal:int32[n]  startChar:int32[n]  endChar:int32[n]      (pad to 8)
 * strOffsets:int64[2n + 1]      string j = blob[strOffsets[j], strOffsets[j+1]); j = 2i chunk id, 2i+1 doc id
 * blob:u8[strOffsets[2n]]       UTF-8                          (pad to 8)
 * footer
 * </pre>
 *
 * Character offsets are UTF-16 code unit offsets into the source document text, end exclusive.
 */
public final class ChunkTableFile {
  /** Codec name in the header. */
  public static final String CODEC = "quarry.chunks";
  /** Current (and only) format version. */
  public static final int VERSION = 1;
  /** File name inside a shard directory. */
  public static final String FILE_NAME = "chunks.tbl";

  /** One row of the table. */
  public record Row(String chunkId, String docId, int ordinal, int startChar, int endChar) {}

  private final int n;
  private final ByteBuffer body;
  private final int ordinalsAt;
  private final int offsetsAt;
  private final int blobAt;

  private ChunkTableFile(int n, ByteBuffer body, int ordinalsAt, int offsetsAt, int blobAt) {
    this.n = n;
    this.body = body;
    this.ordinalsAt = ordinalsAt;
    this.offsetsAt = offsetsAt;
    this.blobAt = blobAt;
  }

  /**
   * Writes the table; row {@code i} of {@code rows} gets shard-local id {@code i}.
   *
   * @throws IOException on write failure
   */
  public static void write(Path file, int shard, List<Row> rows) throws IOException {
    int n = rows.size();
    byte[][] strings = new byte[2 * n][];
    for (int i = 0; i < n; i++) {
      strings[2 * i] = rows.get(i).chunkId().getBytes(StandardCharsets.UTF_8);
      strings[2 * i + 1] = rows.get(i).docId().getBytes(StandardCharsets.UTF_8);
    }
    try (SegmentFiles.Writer w = new SegmentFiles.Writer(file, CODEC, VERSION, shard)) {
      w.writeLong(n);
      for (Row r : rows) {
        w.writeInt(r.ordinal());
      }
      for (Row r : rows) {
        w.writeInt(r.startChar());
      }
      for (Row r : rows) {
        w.writeInt(r.endChar());
      }
      w.align();
      long off = 0;
      w.writeLong(0);
      for (byte[] s : strings) {
        off += s.length;
        w.writeLong(off);
      }
      for (byte[] s : strings) {
        w.writeBytes(s);
      }
      w.align();
      w.finish();
    }
  }

  /**
   * Memory-maps and verifies a table.
   *
   * @param shard expected shard id, or -1 to accept any
   * @throws CorruptIndexFileException naming the file on any format or checksum error
   */
  public static ChunkTableFile open(Path file, int shard, boolean verifyChecksum) throws IOException {
    ByteBuffer b = SegmentFiles.openVerified(file, CODEC, VERSION, shard, verifyChecksum);
    String name = file.toString();
    int n = SegmentFiles.checkedLength(name, "n", b.getLong(), (b.remaining()) / 28);
    int ordinalsAt = b.position();
    int offsetsAt = SegmentFiles.align8(ordinalsAt + 12 * n);
    int blobAt = offsetsAt + 8 * (2 * n + 1);
    if (blobAt > b.limit()) {
      throw new CorruptIndexFileException(name, "body too short for n = " + n);
    }
    long blobLen = b.getLong(offsetsAt + 16 * n);
    if (blobAt + blobLen > b.limit()) {
      throw new CorruptIndexFileException(name, "string blob of " + blobLen + " bytes runs past the footer");
    }
    return new ChunkTableFile(n, b, ordinalsAt, offsetsAt, blobAt);
  }

  /** Rows in the table. */
  public int size() {
    return n;
  }

  private String string(int j) {
    long from = body.getLong(offsetsAt + 8 * j);
    long to = body.getLong(offsetsAt + 8 * (j + 1));
    byte[] bytes = new byte[(int) (to - from)];
    body.get(blobAt + (int) from, bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /**
   * Row of shard-local id {@code id}.
   *
   * @throws IndexOutOfBoundsException if {@code id} is not in {@code [0, size())}
   */
  public Row row(int id) {
    if (id < 0 || id >= n) {
      throw new IndexOutOfBoundsException("id " + id + " not in [0, " + n + ")");
    }
    return new Row(string(2 * id), string(2 * id + 1), body.getInt(ordinalsAt + 4 * id),
        body.getInt(ordinalsAt + 4 * (n + id)), body.getInt(ordinalsAt + 4 * (2 * n + id)));
  }

  /** Chunk id of shard-local id {@code id}. */
  public String chunkId(int id) {
    return string(2 * id);
  }

  /** Doc id of shard-local id {@code id}. */
  public String docId(int id) {
    return string(2 * id + 1);
  }
}
