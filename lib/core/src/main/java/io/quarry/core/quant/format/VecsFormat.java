package io.quarry.core.quant.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Readers and writers of the TEXMEX {@code .fvecs} / {@code .ivecs} formats (Jégou et al., the SIFT1M/siftsmall ANN benchmark
 * corpus, http://corpus-texmex.irisa.fr/): each vector is a little-endian int32 dimension {@code d} followed by
 * {@code d} little-endian float32 ({@code fvecs}) or int32 ({@code ivecs}) values.
 */
public final class VecsFormat {
  private VecsFormat() {}

  /**
   * Vectors of one file, row-major.
   *
   * @param data {@code n × d} values (floats, or ints widened for {@code ivecs})
   * @param n rows
   * @param d dimension
   */
  public record Vecs(float[] data, int[] ints, int n, int d) {
    public float[] row(int i) {
      return java.util.Arrays.copyOfRange(data, i * d, (i + 1) * d);
    }

    public int[] intRow(int i) {
      return java.util.Arrays.copyOfRange(ints, i * d, (i + 1) * d);
    }
  }

  /** Reads an {@code .fvecs} file. @throws IOException naming the file on a bad or inconsistent record */
  public static Vecs readFvecs(Path file) throws IOException {
    return read(file, true);
  }

  /** Reads an {@code .ivecs} file. @throws IOException naming the file on a bad or inconsistent record */
  public static Vecs readIvecs(Path file) throws IOException {
    return read(file, false);
  }

  /**
   * Writes {@code n × d} floats (row-major) as an {@code .fvecs} file.
   *
   * @throws IllegalArgumentException if {@code data.length != n × d}
   */
  public static void writeFvecs(Path file, float[] data, int n, int d) throws IOException {
    write(file, data, null, n, d);
  }

  /**
   * Writes {@code n × d} ints (row-major) as an {@code .ivecs} file (e.g. ground-truth neighbour ids).
   *
   * @throws IllegalArgumentException if {@code data.length != n × d}
   */
  public static void writeIvecs(Path file, int[] data, int n, int d) throws IOException {
    write(file, null, data, n, d);
  }

  private static void write(Path file, float[] f, int[] ints, int n, int d) throws IOException {
    int len = f != null ? f.length : ints.length;
    if (d <= 0 || (long) n * d != len) {
      throw new IllegalArgumentException("expected " + n + " × " + d + " values, got " + len);
    }
    ByteBuffer buf = ByteBuffer.allocate(n * (4 + 4 * d)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      buf.putInt(d);
      for (int t = 0; t < d; t++) {
        if (f != null) {
          buf.putFloat(f[i * d + t]);
        } else {
          buf.putInt(ints[i * d + t]);
        }
      }
    }
    Files.write(file, buf.array());
  }

  private static Vecs read(Path file, boolean floats) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    if (buf.remaining() < 4) {
      throw new IOException(file + ": empty or truncated vecs file");
    }
    int d = buf.getInt(0);
    long rec = 4L + 4L * d;
    if (d <= 0 || buf.remaining() % rec != 0) {
      throw new IOException(file + ": size " + buf.remaining() + " is not a multiple of the record size " + rec
          + " (d = " + d + ")");
    }
    int n = (int) (buf.remaining() / rec);
    float[] f = floats ? new float[n * d] : null;
    int[] ints = floats ? null : new int[n * d];
    for (int i = 0; i < n; i++) {
      int di = buf.getInt();
      if (di != d) {
        throw new IOException(file + ": record " + i + " has dimension " + di + ", expected " + d);
      }
      for (int t = 0; t < d; t++) {
        if (floats) {
          f[i * d + t] = buf.getFloat();
        } else {
          ints[i * d + t] = buf.getInt();
        }
      }
    }
    return new Vecs(f, ints, n, d);
  }
}
