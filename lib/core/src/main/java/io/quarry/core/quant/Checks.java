package io.quarry.core.quant;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Shape/finiteness checks and big-endian float32 array I/O shared by the quantizer components. */
final class Checks {
  private Checks() {}

  /** A copy of {@code a} after checking its length and that every value is finite. */
  static float[] finite(float[] a, long expected, String what) {
    if (a == null) {
      throw new IllegalArgumentException(what + " is missing");
    }
    if (a.length != expected) {
      throw new IllegalArgumentException(what + ": expected " + expected + " floats, got " + a.length);
    }
    for (int i = 0; i < a.length; i++) {
      if (!Float.isFinite(a[i])) {
        throw new IllegalArgumentException(what + ": non-finite value " + a[i] + " at index " + i);
      }
    }
    return a.clone();
  }

  static void writeFloats(DataOutputStream out, float[] a) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(4 * 8192).order(ByteOrder.BIG_ENDIAN);
    for (int i = 0; i < a.length; ) {
      buf.clear();
      int n = Math.min(8192, a.length - i);
      buf.asFloatBuffer().put(a, i, n);
      out.write(buf.array(), 0, 4 * n);
      i += n;
    }
  }

  static float[] readFloats(DataInputStream in, long n, String source, String what) throws IOException {
    if (n < 0 || n > Integer.MAX_VALUE) {
      throw new IOException(source + ": " + what + " has an invalid size (" + n + " floats)");
    }
    float[] a = new float[(int) n];
    byte[] buf = new byte[4 * 8192];
    for (int i = 0; i < a.length; ) {
      int k = Math.min(8192, a.length - i);
      in.readFully(buf, 0, 4 * k);
      ByteBuffer.wrap(buf, 0, 4 * k).order(ByteOrder.BIG_ENDIAN).asFloatBuffer().get(a, i, k);
      i += k;
    }
    return a;
  }
}
