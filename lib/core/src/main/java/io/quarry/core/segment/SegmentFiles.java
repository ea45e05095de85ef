package io.quarry.core.segment;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;

/**
 * The common envelope of every Quarry segment file: a header and a checksummed footer around a codec-specific
 * body. All integers are little-endian.
 *
 * <pre>
 * header  := magic:int32 = 0x53595251 ("QRYS" as bytes), nameLen:u8, name:ASCII[nameLen], version:int32,
 *            shard:int32, zero padding to a multiple of 8 bytes
 * body    := codec-specific; every section starts 8-byte aligned (zero padding)
 * footer  := footerMagic:int32 = 0x444E4553 ("SEND" as bytes), zero:int32, crc32:int64
 * </pre>
 *
 * <p>{@code crc32} is java.util.zip.CRC32 of every byte before it (header, body, footer magic and zero), stored in
 * the low 32 bits. The footer is 16 bytes. Same layout idea as Lucene's {@code CodecUtil} header/footer.
 */
public final class SegmentFiles {
  /** Header magic, the bytes {@code Q R Y S}. */
  public static final int MAGIC = 0x53595251;
  /** Footer magic, the bytes {@code S E N D}. */
  public static final int FOOTER_MAGIC = 0x444E4553;
  /** Footer length in bytes. */
  public static final int FOOTER_LENGTH = 16;

  private SegmentFiles() {}

  /** Bytes of the header for a codec name of {@code nameLen} ASCII chars (padded to 8). */
  public static int headerLength(String codec) {
    return align8(4 + 1 + codec.length() + 4 + 4);
  }

  static int align8(int n) {
    return (n + 7) & ~7;
  }

  /**
   * A little-endian writer that tracks its position and a running CRC32; {@link #finish()} writes the footer.
   * Not thread-safe.
   */
  public static final class Writer implements AutoCloseable {
    private final OutputStream out;
    private final CRC32 crc = new CRC32();
    private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    private long position;
    private boolean finished;

    /**
     * Opens {@code file} for writing (replacing it) and writes the header.
     *
     * @throws IOException if the file cannot be created
     */
    public Writer(Path file, String codec, int version, int shard) throws IOException {
      this(Files.newOutputStream(file), codec, version, shard);
    }

    /** Writes the header to {@code out}; {@link #close()} closes {@code out}. */
    public Writer(OutputStream out, String codec, int version, int shard) throws IOException {
      if (codec.isEmpty() || codec.length() > 255 || !StandardCharsets.US_ASCII.newEncoder().canEncode(codec)) {
        throw new IllegalArgumentException("codec name must be 1..255 ASCII chars, got '" + codec + "'");
      }
      this.out = new java.io.BufferedOutputStream(out, 1 << 16);
      writeInt(MAGIC);
      writeByte(codec.length());
      writeBytes(codec.getBytes(StandardCharsets.US_ASCII));
      writeInt(version);
      writeInt(shard);
      align();
    }

    public long position() {
      return position;
    }

    public void writeByte(int b) throws IOException {
      out.write(b);
      crc.update(b);
      position++;
    }

    public void writeBytes(byte[] b) throws IOException {
      writeBytes(b, 0, b.length);
    }

    public void writeBytes(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      crc.update(b, off, len);
      position += len;
    }

    public void writeInt(int v) throws IOException {
      scratch.clear();
      scratch.putInt(v);
      writeBytes(scratch.array(), 0, 4);
    }

    public void writeLong(long v) throws IOException {
      scratch.clear();
      scratch.putLong(v);
      writeBytes(scratch.array(), 0, 8);
    }

    public void writeFloat(float v) throws IOException {
      writeInt(Float.floatToRawIntBits(v));
    }

    /** Zero-pads to the next multiple of 8 bytes. */
    public void align() throws IOException {
      while ((position & 7) != 0) {
        writeByte(0);
      }
    }

    /** Writes the footer (magic, zero, CRC32 of everything before). */
    public void finish() throws IOException {
      writeInt(FOOTER_MAGIC);
      writeInt(0);
      long sum = crc.getValue();
      scratch.clear();
      scratch.putLong(sum);
      out.write(scratch.array(), 0, 8);
      position += 8;
      finished = true;
    }

    @Override
    public void close() throws IOException {
      try {
        if (!finished) {
          throw new IllegalStateException("segment file closed without finish(): footer missing");
        }
      } finally {
        out.close();
      }
    }
  }

  /**
   * Memory-maps {@code file} read-only and verifies its envelope: magic, codec name, version, shard, footer magic and
   * CRC32 over the whole file.
   *
   * @param verifyChecksum when false only the footer magic is checked (the CRC32 pass reads every byte)
   * @return the mapped file, little-endian, positioned just after the header
   * @throws CorruptIndexFileException naming {@code file} on any mismatch
   * @throws IOException if the file cannot be read
   */
  public static ByteBuffer openVerified(Path file, String codec, int version, int shard, boolean verifyChecksum)
      throws IOException {
    String name = file.toString();
    ByteBuffer buf;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < headerLength(codec) + FOOTER_LENGTH) {
        throw new CorruptIndexFileException(name, "file too short (" + size + " bytes) for a '" + codec + "' file");
      }
      if (size > Integer.MAX_VALUE) {
        throw new CorruptIndexFileException(name,
            "file larger than 2 GiB (" + size + " bytes); split into more shards");
      }
      buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
    }
    int magic = buf.getInt(0);
    if (magic != MAGIC) {
      throw new CorruptIndexFileException(name,
          String.format("bad header magic 0x%08x (expected 0x%08x)", magic, MAGIC));
    }
    int len = buf.get(4) & 0xff;
    byte[] nb = new byte[len];
    buf.get(5, nb);
    String actualCodec = new String(nb, StandardCharsets.US_ASCII);
    if (!actualCodec.equals(codec)) {
      throw new CorruptIndexFileException(name, "codec '" + actualCodec + "' (expected '" + codec + "')");
    }
    int actualVersion = buf.getInt(5 + len);
    if (actualVersion != version) {
      throw new CorruptIndexFileException(name, "unsupported " + codec + " version " + actualVersion
          + " (this reader supports " + version + ")");
    }
    int actualShard = buf.getInt(9 + len);
    if (shard >= 0 && actualShard != shard) {
      throw new CorruptIndexFileException(name, "belongs to shard " + actualShard + " (expected " + shard + ")");
    }
    int footer = buf.capacity() - FOOTER_LENGTH;
    int fm = buf.getInt(footer);
    if (fm != FOOTER_MAGIC) {
      throw new CorruptIndexFileException(name, String.format("bad footer magic 0x%08x (truncated file?)", fm));
    }
    if (verifyChecksum) {
      CRC32 crc = new CRC32();
      crc.update(buf.duplicate().position(0).limit(footer + 8));
      long stored = buf.getLong(footer + 8);
      if (stored != crc.getValue()) {
        throw new CorruptIndexFileException(name, String.format("checksum mismatch: stored crc32 %08x, actual %08x",
            stored, crc.getValue()));
      }
    }
    return buf.position(headerLength(codec)).limit(footer);
  }

  /** The shard id stored in a header (for diagnostics). */
  public static int shardOf(ByteBuffer file, String codec) {
    return file.getInt(9 + codec.length());
  }

  /** Aligns {@code buf}'s position up to a multiple of 8. */
  static void align(ByteBuffer buf) {
    buf.position(align8(buf.position()));
  }

  /** Bounds check for a length read from a file. */
  static int checkedLength(String file, String field, long value, long max) throws CorruptIndexFileException {
    if (value < 0 || value > max) {
      throw new CorruptIndexFileException(file, field + " = " + value + " out of range [0, " + max + "]");
    }
    return (int) value;
  }
}
