package io.quarry.core.segment;

import io.quarry.core.quant.DistanceMetric;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;

/**
 * The vectors of one shard kept for exact re-scoring, as float32 or 8-bit scalar-quantized (sq8), indexed by
 * shard-local id.
 *
 * <p>Byte layout (codec {@value #CODEC}, version {@value #VERSION}; envelope in {@link SegmentFiles}):
 *
 * <pre>
 * header
 * encoding:int32 (0 = float32, 1 = sq8)  dim:int32  n:int64
 * sq8 only: min:float32[dim]  step:float32[dim]     x[j] ≈ min[j] + code[j] × step[j]
 * data: float32[n × dim] or u8[n × dim], row-major   (pad to 8)
 * footer
 * </pre>
 *
 * sq8 uses per-dimension min/max ranges (uniform scalar quantization, as Lucene's and FAISS's {@code SQ8}); its
 * reconstruction error per component is at most {@code step/2}.
 */
public final class RescoreVectorsFile {
  /** Codec name in the header. */
  public static final String CODEC = "quarry.vectors";
  /** Current (and only) format version. */
  public static final int VERSION = 1;
  /** File name inside a shard directory. */
  public static final String FILE_NAME = "vectors.bin";

  /** Storage encodings, by their {@code segments.rescore} name. */
  public enum Encoding {
    FLOAT32,
    SQ8;

    /** Parses {@code float32} / {@code sq8}. */
    public static Encoding parse(String s) {
      return switch (s) {
        case "float32" -> FLOAT32;
        case "sq8" -> SQ8;
        default -> throw new IllegalArgumentException("unknown rescore encoding '" + s + "' (float32 or sq8)");
      };
    }

    /** Bytes per stored vector of dimension {@code dim}. */
    public int bytesPerVector(int dim) {
      return this == FLOAT32 ? 4 * dim : dim;
    }
  }

  private final Encoding encoding;
  private final int dim;
  private final int n;
  private final float[] min;
  private final float[] step;
  private final ByteBuffer data;

  private RescoreVectorsFile(Encoding encoding, int dim, int n, float[] min, float[] step, ByteBuffer data) {
    this.encoding = encoding;
    this.dim = dim;
    this.n = n;
    this.min = min;
    this.step = step;
    this.data = data;
  }

  /**
   * Writes {@code n × dim} vectors (row-major) in {@code encoding}.
   *
   * @throws IllegalArgumentException if {@code vectors.length} is not a multiple of {@code dim}
   * @throws IOException on write failure
   */
  public static void write(Path file, int shard, Encoding encoding, int dim, float[] vectors) throws IOException {
    if (dim <= 0 || vectors.length % dim != 0) {
      throw new IllegalArgumentException("vectors.length " + vectors.length + " is not a multiple of dim " + dim);
    }
    int n = vectors.length / dim;
    try (SegmentFiles.Writer w = new SegmentFiles.Writer(file, CODEC, VERSION, shard)) {
      w.writeInt(encoding.ordinal());
      w.writeInt(dim);
      w.writeLong(n);
      if (encoding == Encoding.FLOAT32) {
        for (float v : vectors) {
          w.writeFloat(v);
        }
      } else {
        float[] lo = new float[dim];
        float[] hi = new float[dim];
        java.util.Arrays.fill(lo, Float.POSITIVE_INFINITY);
        java.util.Arrays.fill(hi, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < dim; j++) {
            float v = vectors[i * dim + j];
            lo[j] = Math.min(lo[j], v);
            hi[j] = Math.max(hi[j], v);
          }
        }
        float[] st = new float[dim];
        for (int j = 0; j < dim; j++) {
          if (n == 0) {
            lo[j] = 0;
          }
          st[j] = n == 0 || hi[j] <= lo[j] ? 0f : (hi[j] - lo[j]) / 255f;
          w.writeFloat(lo[j]);
        }
        for (int j = 0; j < dim; j++) {
          w.writeFloat(st[j]);
        }
        byte[] row = new byte[dim];
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < dim; j++) {
            int c = st[j] == 0f ? 0 : Math.round((vectors[i * dim + j] - lo[j]) / st[j]);
            row[j] = (byte) Math.max(0, Math.min(255, c));
          }
          w.writeBytes(row);
        }
      }
      w.align();
      w.finish();
    }
  }

  /**
   * Memory-maps and verifies a vectors file.
   *
   * @param shard expected shard id, or -1 to accept any
   * @throws CorruptIndexFileException naming the file on any format or checksum error
   */
  public static RescoreVectorsFile open(Path file, int shard, boolean verifyChecksum) throws IOException {
    ByteBuffer b = SegmentFiles.openVerified(file, CODEC, VERSION, shard, verifyChecksum);
    String name = file.toString();
    int enc = b.getInt();
    if (enc < 0 || enc > 1) {
      throw new CorruptIndexFileException(name, "unknown encoding " + enc);
    }
    Encoding encoding = Encoding.values()[enc];
    int dim = SegmentFiles.checkedLength(name, "dim", b.getInt(), 1 << 16);
    int n = SegmentFiles.checkedLength(name, "n", b.getLong(), Integer.MAX_VALUE);
    float[] min = null;
    float[] step = null;
    if (encoding == Encoding.SQ8) {
      min = new float[dim];
      step = new float[dim];
      for (int j = 0; j < dim; j++) {
        min[j] = b.getFloat();
      }
      for (int j = 0; j < dim; j++) {
        step[j] = b.getFloat();
      }
    }
    long bytes = (long) n * encoding.bytesPerVector(dim);
    if (b.position() + bytes > b.limit()) {
      throw new CorruptIndexFileException(name, "body too short for " + n + " × " + dim + " " + encoding);
    }
    ByteBuffer data = b.duplicate().position(b.position()).limit(b.position() + (int) bytes).slice()
        .order(ByteOrder.LITTLE_ENDIAN);
    return new RescoreVectorsFile(encoding, dim, n, min, step, data);
  }

  public Encoding encoding() {
    return encoding;
  }

  public int dim() {
    return dim;
  }

  public int size() {
    return n;
  }

  /** Decodes vector {@code id} into {@code out} ({@code dim} floats). */
  public void get(int id, float[] out) {
    if (id < 0 || id >= n) {
      throw new IndexOutOfBoundsException("id " + id + " not in [0, " + n + ")");
    }
    if (encoding == Encoding.FLOAT32) {
      FloatBuffer fb = data.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(id * 4 * dim).slice()
          .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      fb.get(out, 0, dim);
    } else {
      int base = id * dim;
      for (int j = 0; j < dim; j++) {
        out[j] = min[j] + (data.get(base + j) & 0xff) * step[j];
      }
    }
  }

  /**
   * Exact score of {@code query} ({@code dim} floats) against stored vector {@code id} under {@code metric}: inner
   * product, or negated squared L2 distance (higher is better, as {@link DistanceMetric} documents).
   */
  public float score(DistanceMetric metric, float[] query, int id, float[] scratch) {
    get(id, scratch);
    float s = 0;
    if (metric == DistanceMetric.IP) {
      for (int j = 0; j < dim; j++) {
        s += query[j] * scratch[j];
      }
      return s;
    }
    for (int j = 0; j < dim; j++) {
      float d = query[j] - scratch[j];
      s += d * d;
    }
    return -s;
  }
}
