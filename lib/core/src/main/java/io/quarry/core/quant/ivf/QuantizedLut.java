package io.quarry.core.quant.ivf;

/**
 * A query's ADC lookup table quantized to unsigned bytes, for the bound pass of {@link LutScan}: for an {@code M × 256}
 * float table {@code T} (row-major, sub-quantizer {@code j}'s 256 entries contiguous),
 *
 * <pre>
 * min_j = min_c T[j][c]      Δ = max_j (max_c T[j][c] − min_j) / 255      q[j][c] = round((T[j][c] − min_j) / Δ)
 * </pre>
 *
 * (round half to even, 0..255), so {@code |T[j][c] − min_j − q·Δ| ≤ Δ/2} (up to the float rounding of the
 * quantization, which {@link #slack} covers), and for a code with {@code Q = Σ_j q[j][c_j]}: {@code Σ_j min_j +
 * Δ·(Q − M/2) ≤ Σ_j T[j][c_j] ≤ Σ_j min_j + Δ·(Q + M/2)}. One scale {@code Δ} for all sub-quantizers keeps {@code
 * Q} a plain sum (at most {@code 255·M}, a 16-bit integer for {@code M ≤ 128}). FAISS quantizes its fast-scan tables
 * the same way (per sub-quantizer minimum, one scale; {@code faiss/utils/quantize_lut.cpp}) but ranks by the
 * quantized sums; here they only bound, never rank: every reported score is the exact float sum.
 */
public final class QuantizedLut {
  private final byte[] q;
  private final int m;
  private final double delta;
  private final double sumMin;
  private final double sumAbs;

  private QuantizedLut(byte[] q, int m, double delta, double sumMin, double sumAbs) {
    this.q = q;
    this.m = m;
    this.delta = delta;
    this.sumMin = sumMin;
    this.sumAbs = sumAbs;
  }

  /**
   * Quantizes an ADC table (Vector API kernels: call only when {@link io.quarry.core.quant.kernel.Simd#ENABLED}), or returns null when it cannot
   * bound the scan: {@code ksub ≠ 256}, {@code M > 128}, a
   * non-finite entry, or a table whose rows are all constant ({@code Δ = 0}, e.g. the zero query).
   *
   * @param table {@code M × ksub} floats, row-major
   * @param m sub-quantizers {@code M}
   * @param ksub entries per sub-quantizer
   */
  public static QuantizedLut of(float[] table, int m, int ksub) {
    if (ksub != 256 || m > 128 || table.length < m * ksub) {
      return null;
    }
    float[] mins = new float[m];
    float[] maxs = new float[m];
    LutScanKernels.minMax(table, m, mins, maxs);
    float range = 0f;
    double sumMin = 0;
    double sumAbs = 0;
    for (int j = 0; j < m; j++) {
      if (!Float.isFinite(mins[j]) || !Float.isFinite(maxs[j])) {
        return null;
      }
      range = Math.max(range, maxs[j] - mins[j]);
      sumMin += mins[j];
      sumAbs += Math.max(Math.abs(mins[j]), Math.abs(maxs[j]));
    }
    float scale = 255f / range;
    if (!(range > 0f) || !Float.isFinite(scale)) {
      return null;
    }
    byte[] q = new byte[m * 256];
    LutScanKernels.quantize(table, m, mins, scale, q);
    return new QuantizedLut(q, m, 1.0 / scale, sumMin, sumAbs);
  }

  /** {@code M × 256} unsigned bytes {@code q[j][c]} at {@code [j·256 + c]}; shared, not to be modified. */
  byte[] codes() {
    return q;
  }

  /** Sub-quantizers {@code M}. */
  int m() {
    return m;
  }

  /** The quantization step {@code Δ} (score units per quantized unit). */
  double delta() {
    return delta;
  }

  /** {@code Σ_j min_j}. */
  double sumMin() {
    return sumMin;
  }

  /** {@code Σ_j max_c |T[j][c]|}. */
  double absSum() {
    return sumAbs;
  }

  /**
   * A bound on how far a computed float score {@code base + Σ_j T[j][c_j]} (summed in {@code j} order from {@code 0f},
   * as the scan does) and the bounds from {@code Q} can each be off the exact real values: {@code (M + 2)·2^−23·(Σ_j
   * max_c |T[j][c]| + maxAbsBase)} for the float sums (twice the textbook {@code (M + 1)·u} bound of recursive
   * summation, {@code u = 2^−24}) plus {@code M·Δ·10^−3} for the float rounding of {@code (T − min_j)/Δ} (at most a
   * few {@code 10^−5} units per entry).
   *
   * @param maxAbsBase the largest {@code |base|} added to a sum (the coarse term of the lists scanned)
   */
  double slack(double maxAbsBase) {
    return (m + 2) * 0x1p-23 * (sumAbs + maxAbsBase) + m * delta * 1e-3;
  }
}
