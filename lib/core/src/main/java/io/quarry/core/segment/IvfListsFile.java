package io.quarry.core.segment;

import io.quarry.core.quant.InvertedLists;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.file.Path;

/**
 * The inverted lists of one shard: IVF lists of PQ codes and shard-local int ids, memory-mapped at read time.
 *
 * <p>Byte layout (codec {@value #CODEC}, version {@value #VERSION}; envelope in {@link SegmentFiles}):
 *
 * <pre>
 * header
 * nlist:int32  codeSize:int32  n:int64                    n = entries in this shard
 * offsets:int64[nlist + 1]                                 list l holds entries [offsets[l], offsets[l+1])
 * ids:int32[n]                                             shard-local chunk ids, list by list, ascending in a list
 * (pad to 8)
 * codes:u8[n × codeSize]                                   row-major, same order as ids
 * (pad to 8)
 * footer
 * </pre>
 *
 * Entries are grouped by list with a stable counting sort, so equal input gives byte-identical files. IVF-ADC as in
 * Jégou, Douze, Schmid, "Product quantization for nearest neighbor search", TPAMI 2011.
 */
public final class IvfListsFile implements InvertedLists {
  /** Codec name in the header. */
  public static final String CODEC = "quarry.ivf";
  /** Current (and only) format version. */
  public static final int VERSION = 1;
  /** File name inside a shard directory. */
  public static final String FILE_NAME = "lists.ivf";

  private final int nlist;
  private final int codeSize;
  private final long[] offsets;
  private final ByteBuffer ids;
  private final ByteBuffer codes;

  private IvfListsFile(int nlist, int codeSize, long[] offsets, ByteBuffer ids, ByteBuffer codes) {
    this.nlist = nlist;
    this.codeSize = codeSize;
    this.offsets = offsets;
    this.ids = ids;
    this.codes = codes;
  }

  /**
   * Writes the lists file.
   *
   * @param file destination (replaced)
   * @param shard shard id stored in the header
   * @param nlist number of IVF lists
   * @param codeSize bytes per PQ code
   * @param list {@code n} list numbers, entry {@code i} goes to list {@code list[i]} in {@code [0, nlist)}
   * @param ids {@code n} shard-local ids
   * @param codes {@code n × codeSize} bytes, row-major
   * @throws IllegalArgumentException if the shapes disagree or a list number is out of range
   * @throws IOException on write failure
   */
  public static void write(Path file, int shard, int nlist, int codeSize, int[] list, int[] ids, byte[] codes)
      throws IOException {
    int n = list.length;
    if (ids.length != n || (long) n * codeSize != codes.length) {
      throw new IllegalArgumentException("shape mismatch: " + n + " lists, " + ids.length + " ids, " + codes.length
          + " code bytes (expected n × codeSize = " + (long) n * codeSize + ")");
    }
    long[] offsets = new long[nlist + 1];
    for (int i = 0; i < n; i++) {
      if (list[i] < 0 || list[i] >= nlist) {
        throw new IllegalArgumentException("entry " + i + ": list " + list[i] + " not in [0, " + nlist + ")");
      }
      offsets[list[i] + 1]++;
    }
    for (int l = 0; l < nlist; l++) {
      offsets[l + 1] += offsets[l];
    }
    int[] order = new int[n];
    long[] next = offsets.clone();
    for (int i = 0; i < n; i++) {
      order[(int) next[list[i]]++] = i;
    }
    try (SegmentFiles.Writer w = new SegmentFiles.Writer(file, CODEC, VERSION, shard)) {
      w.writeInt(nlist);
      w.writeInt(codeSize);
      w.writeLong(n);
      for (long o : offsets) {
        w.writeLong(o);
      }
      for (int i : order) {
        w.writeInt(ids[i]);
      }
      w.align();
      for (int i : order) {
        w.writeBytes(codes, i * codeSize, codeSize);
      }
      w.align();
      w.finish();
    }
  }

  /**
   * Memory-maps and verifies a lists file.
   *
   * @param shard expected shard id, or -1 to accept any
   * @throws CorruptSegmentException naming the file on any format or checksum error
   */
  public static IvfListsFile open(Path file, int shard, boolean verifyChecksum) throws IOException {
    ByteBuffer b = SegmentFiles.openVerified(file, CODEC, VERSION, shard, verifyChecksum);
    String name = file.toString();
    int nlist = SegmentFiles.checkedLength(name, "nlist", b.getInt(), 1 << 24);
    int codeSize = SegmentFiles.checkedLength(name, "codeSize", b.getInt(), 1 << 16);
    long n = b.getLong();
    long[] offsets = new long[nlist + 1];
    for (int l = 0; l <= nlist; l++) {
      offsets[l] = b.getLong();
      if (l > 0 && offsets[l] < offsets[l - 1]) {
        throw new CorruptSegmentException(name, "list offsets not monotone at list " + l);
      }
    }
    if (offsets[0] != 0 || offsets[nlist] != n) {
      throw new CorruptSegmentException(name, "list offsets span [" + offsets[0] + ", " + offsets[nlist]
          + ") but n = " + n);
    }
    long need = b.position() + 4 * n + 8 + n * codeSize;
    if (need > b.limit() + 8L) {
      throw new CorruptSegmentException(name, "body too short for n = " + n + ", codeSize = " + codeSize);
    }
    int idsStart = b.position();
    ByteBuffer ids = b.duplicate().position(idsStart).limit(idsStart + (int) (4 * n)).slice()
        .order(ByteOrder.LITTLE_ENDIAN);
    int codesStart = SegmentFiles.align8(idsStart + (int) (4 * n));
    ByteBuffer codes = b.duplicate().position(codesStart).limit(codesStart + (int) (n * codeSize)).slice();
    return new IvfListsFile(nlist, codeSize, offsets, ids, codes);
  }

  @Override
  public int nlist() {
    return nlist;
  }

  @Override
  public int codeSize() {
    return codeSize;
  }

  @Override
  public int size(int list) {
    return (int) (offsets[list + 1] - offsets[list]);
  }

  /** Total entries in the shard. */
  public long entries() {
    return offsets[nlist];
  }

  @Override
  public ByteBuffer codes(int list) {
    int from = (int) (offsets[list] * codeSize);
    int to = (int) (offsets[list + 1] * codeSize);
    return codes.duplicate().position(from).limit(to).slice();
  }

  @Override
  public IntBuffer ids(int list) {
    int from = (int) (offsets[list] * 4);
    int to = (int) (offsets[list + 1] * 4);
    return ids.duplicate().position(from).limit(to).slice().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
  }
}
