package io.quarry.core.quant.train;

/**
 * Element-wise {@code into[i] += other[i]}: the merge of two partial training statistics (per-partition sums and
 * counts, merged in partition order by the Spark trainer). Same length required.
 */
public final class PartialSums {
  private PartialSums() {}

  /** Adds {@code other} into {@code into}, index by index; returns {@code into}. */
  public static double[] add(double[] into, double[] other) {
    checkLength(into.length, other.length);
    for (int i = 0; i < into.length; i++) {
      into[i] += other[i];
    }
    return into;
  }

  /** Adds {@code other} into {@code into}, index by index; returns {@code into}. */
  public static long[] add(long[] into, long[] other) {
    checkLength(into.length, other.length);
    for (int i = 0; i < into.length; i++) {
      into[i] += other[i];
    }
    return into;
  }

  private static void checkLength(int a, int b) {
    if (a != b) {
      throw new IllegalArgumentException("partial sums of different shapes: " + a + " and " + b);
    }
  }
}
