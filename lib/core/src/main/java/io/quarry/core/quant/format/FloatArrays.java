package io.quarry.core.quant.format;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Big-endian float32 arrays in the quantizer file (both format versions), in 32 KiB chunks. */
final class FloatArrays {
  private static final int CHUNK = 8192;

  private FloatArrays() {}

  static void write(DataOutputStream out, float[] a) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(4 * CHUNK).order(ByteOrder.BIG_ENDIAN);
    for (int i = 0; i < a.length; ) {
      buf.clear();
      int n = Math.min(CHUNK, a.length - i);
      buf.asFloatBuffer().put(a, i, n);
      out.write(buf.array(), 0, 4 * n);
      i += n;
    }
  }

  /**
   * Reads {@code n} floats.
   *
   * @throws IOException naming {@code source} and {@code what} when {@code n} is not a valid array size
   * @throws java.io.EOFException when the input ends first
   */
  static float[] read(DataInputStream in, long n, String source, String what) throws IOException {
    if (n < 0 || n > Integer.MAX_VALUE) {
      throw new IOException(source + ": " + what + " has an invalid size (" + n + " floats)");
    }
    float[] a = new float[(int) n];
    byte[] buf = new byte[4 * CHUNK];
    for (int i = 0; i < a.length; ) {
      int k = Math.min(CHUNK, a.length - i);
      in.readFully(buf, 0, 4 * k);
      ByteBuffer.wrap(buf, 0, 4 * k).order(ByteOrder.BIG_ENDIAN).asFloatBuffer().get(a, i, k);
      i += k;
    }
    return a;
  }
}
