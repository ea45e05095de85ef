package io.quarry.core.quant.component;

/**
 * Bit-packing of PQ sub-codes, least-significant bit first, as FAISS's {@code PQEncoderGeneric}: sub-code {@code j}
 * occupies bits {@code [j·nbits, (j+1)·nbits)} of the code, bit {@code b} of the code being bit {@code b % 8} of byte
 * {@code b / 8}. A code of M sub-codes takes {@code ceil(M·nbits / 8)} bytes.
 */
public final class PqCodes {
  private PqCodes() {}

  /** ORs sub-code {@code value} (< 2^nbits) into slot {@code j} of the code at {@code offset} (slot must be zero). */
  public static void put(byte[] code, int offset, int j, int nbits, int value) {
    int bit = j * nbits;
    int remaining = nbits;
    int v = value;
    while (remaining > 0) {
      int byteIdx = offset + (bit >>> 3);
      int shift = bit & 7;
      int take = Math.min(remaining, 8 - shift);
      int mask = (1 << take) - 1;
      code[byteIdx] |= (byte) ((v & mask) << shift);
      v >>>= take;
      bit += take;
      remaining -= take;
    }
  }

  /** Sub-code in slot {@code j} of the code at {@code offset}. */
  public static int get(byte[] code, int offset, int j, int nbits) {
    int bit = j * nbits;
    int remaining = nbits;
    int out = 0;
    int produced = 0;
    while (remaining > 0) {
      int byteIdx = offset + (bit >>> 3);
      int shift = bit & 7;
      int take = Math.min(remaining, 8 - shift);
      int part = ((code[byteIdx] & 0xFF) >>> shift) & ((1 << take) - 1);
      out |= part << produced;
      produced += take;
      bit += take;
      remaining -= take;
    }
    return out;
  }
}
