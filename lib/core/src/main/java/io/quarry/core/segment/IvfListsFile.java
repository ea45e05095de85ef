package io.quarry.core.segment;

import io.quarry.core.quant.ivf.BlockedCodes;
import io.quarry.core.quant.ivf.InvertedLists;
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
  private final BlockedCodes.Cache blocked;

  private IvfListsFile(int nlist, int codeSize, long[] offsets, ByteBuffer ids, ByteBuffer codes) {
    this.nlist = nlist;
    this.codeSize = codeSize;
    this.offsets = offsets;
    this.ids = ids;
    this.codes = codes;
    this.blocked = new BlockedCodes.Cache(nlist);
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
   * @throws CorruptIndexFileException naming the file on any format or checksum error
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
        throw new CorruptIndexFileException(name, "list offsets not monotone at list " + l);
      }
    }
    if (offsets[0] != 0 || offsets[nlist] != n) {
      throw new CorruptIndexFileException(name, "list offsets span [" + offsets[0] + ", " + offsets[nlist]
          + ") but n = " + n);
    }
    long need = b.position() + 4 * n + 8 + n * codeSize;
    if (need > b.limit() + 8L) {
      throw new CorruptIndexFileException(name, "body too short for n = " + n + ", codeSize = " + codeSize);
    }
    int idsStart = b.position();
    ByteBuffer ids = b.duplicate().position(idsStart).limit(idsStart + (int) (4 * n)).slice()
        .order(ByteOrder.LITTLE_ENDIAN);
    int codesStart = SegmentFiles.align8(idsStart + (int) (4 * n));
    ByteBuffer codes = b.duplicate().position(codesStart).limit(codesStart + (int) (n * codeSize)).slice();
    return new IvfListsFile(nlist, codeSize, offsets, ids, codes);
  }

  /**
   * Checks the ids of every list against the shard: each id in {@code [0, chunks)}, each exactly once in the file,
   * ascending inside a list, and lists outside the shard's {@code [listFrom, listTo)} empty. Always run on load (one
   * pass over {@code 4 × n} bytes, a bitset of {@code chunks} bits): a corrupt id would otherwise surface as a failed or
   * wrong search. PQ code bytes cannot be checked this way (every byte value is a legal sub-code for 8-bit PQ); the
   * file's CRC32 and the manifest's SHA-256 are what detects their corruption.
   *
   * @param fileName the file as named in errors
   * @param chunks entries the shard holds (chunk table rows)
   * @param listFrom first list the shard owns
   * @param listTo one past the last list the shard owns
   * @throws CorruptIndexFileException naming the file, the list and the entry on the first violation
   */
  public void validateIds(String fileName, long chunks, int listFrom, int listTo) throws CorruptIndexFileException {
    if (entries() != chunks) {
      throw new CorruptIndexFileException(fileName, entries() + " entries, the shard has " + chunks + " chunks");
    }
    java.util.BitSet seen = new java.util.BitSet((int) Math.min(chunks, Integer.MAX_VALUE));
    for (int l = 0; l < nlist; l++) {
      int size = size(l);
      if (size > 0 && (l < listFrom || l >= listTo)) {
        throw new CorruptIndexFileException(fileName, "list " + l + " holds " + size + " entries but the shard owns "
            + "lists [" + listFrom + ", " + listTo + ")");
      }
      IntBuffer ib = ids(l);
      int prev = -1;
      for (int i = 0; i < size; i++) {
        int id = ib.get(i);
        if (id < 0 || id >= chunks) {
          throw new CorruptIndexFileException(fileName, "list " + l + " entry " + i + ": id " + id + " not in [0, "
              + chunks + ")");
        }
        if (id <= prev) {
          throw new CorruptIndexFileException(fileName, "list " + l + " entry " + i + ": id " + id
              + " not ascending (previous " + prev + ")");
        }
        if (seen.get(id)) {
          throw new CorruptIndexFileException(fileName, "list " + l + " entry " + i + ": id " + id
              + " appears twice");
        }
        seen.set(id);
        prev = id;
      }
    }
  }

  /**
   * Checks what can be checked in PQ codes without their checksum: when {@code m × nbits} is not a multiple of 8,
   * the unused high bits of each code's last byte must be zero (as {@link io.quarry.core.quant.component.PqCodes} writes
   * them). For byte-aligned codes (e.g. PQ48x8, PQ16x4) every byte value is legal and nothing is checked here.
   *
   * @param fileName the file as named in errors
   * @param m PQ sub-quantizers
   * @param nbits bits per sub-code
   * @throws CorruptIndexFileException naming the file and entry on the first code with non-zero padding bits
   */
  public void validatePqPadding(String fileName, int m, int nbits) throws CorruptIndexFileException {
    int usedBits = m * nbits;
    int pad = codeSize * 8 - usedBits;
    if (pad <= 0 || pad >= 8) {
      return;
    }
    int mask = (0xFF << (8 - pad)) & 0xFF;
    long n = entries();
    for (long i = 0; i < n; i++) {
      int last = codes.get((int) (i * codeSize + codeSize - 1)) & 0xFF;
      if ((last & mask) != 0) {
        throw new CorruptIndexFileException(fileName, "entry " + i + ": PQ code has non-zero padding bits");
      }
    }
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

  /** The list's codes in the scan's blocked layout: a heap copy built on the list's first search, then cached. */
  @Override
  public BlockedCodes blockedCodes(int list) {
    return blocked.get(this, list);
  }
}
