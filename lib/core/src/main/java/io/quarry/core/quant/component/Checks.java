package io.quarry.core.quant.component;

/** Shape and finiteness checks shared by the quantizer components. */
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
}
