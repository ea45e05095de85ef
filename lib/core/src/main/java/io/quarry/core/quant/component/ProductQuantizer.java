package io.quarry.core.quant.component;

import io.quarry.core.quant.kernel.BlockProducts;
import io.quarry.core.quant.kernel.L2Kernel;
import io.quarry.core.quant.kernel.Simd;
import io.quarry.core.quant.kernel.VectorKernels;
import io.quarry.core.quant.kernel.VectorMath;
import java.io.Serializable;
import java.util.Arrays;

/**
 * A product quantizer (Jégou et al., "Product Quantization for Nearest Neighbor Search", TPAMI 2011): {@code M}
 * sub-quantizers of {@code ksub = 2^nbits} codewords each; sub-quantizer {@code m} covers dimensions {@code [m·dsub,
 * (m+1)·dsub)}, {@code dsub = d / M}. Codebooks are {@code M × ksub × dsub} float32, row-major. Immutable,
 * thread-safe, {@link Serializable}.
 *
 * <p>Codes: {@link #codeSize()} {@code = ceil(M·nbits / 8)} bytes per vector, the M sub-codes bit-packed
 * least-significant bit first (FAISS {@code PQEncoderGeneric}; with {@code nbits = 8} one byte per sub-quantizer).
 * Encoding picks per sub-space the codeword with the smallest squared L2 distance ({@link L2Kernel}: {@code ||b||² −
 * 2 r·b} with precomputed codeword norms, lowest index on ties); the batch {@link #encode(float[], int, byte[])} gives
 * exactly the codes of the per-vector call.
 *
 * <p>ADC lookup tables ({@code M × ksub} floats, row-major, per query): {@link #innerProductTable} {@code T[m][k] =
 * <x_m, b_{m,k}>} and {@link #l2Table} {@code T[m][k] = ||x_m − b_{m,k}||²} (exact differences, not the norm
 * expansion, so table values carry no cancellation error).
 *
 * <p>File section ({@code PQCB}, absent for Flat): {@code int32 M}, {@code int32 nbits}, {@code int32 dsub},
 * {@code float32[M × ksub × dsub]} big-endian.
 */
public final class ProductQuantizer implements Serializable {
  private static final long serialVersionUID = 1L;

  private static final int ENCODE_BLOCK = 256;

  private final int m;
  private final int nbits;
  private final int ksub;
  private final int dsub;
  private final int d;
  private final int codeSize;
  private final float[] codebooks;
  private final float[] norms;
  /** {@link VectorKernels#blockTranspose} of the codebooks, built on first use ({@link #transposedCodebooks}). */
  private transient volatile float[] codebooksT;
  /** The codebooks split per sub-quantizer for {@link #subCodes(float[], int, int[], BlockProducts)}. */
  private transient volatile float[][] subBooks;

  /**
   * @param m sub-quantizers, ≥ 1
   * @param nbits bits per sub-code, 1..8
   * @param dsub dimensions per sub-quantizer, ≥ 1
   * @param codebooks {@code M × 2^nbits × dsub} row-major (copied)
   * @throws IllegalArgumentException on a parameter out of range, a wrong length or a non-finite value
   */
  public ProductQuantizer(int m, int nbits, int dsub, float[] codebooks) {
    if (m < 1 || nbits < 1 || nbits > 8 || dsub < 1) {
      throw new IllegalArgumentException("product quantizer: M >= 1, nbits in 1..8, dsub >= 1 required (M=" + m
          + ", nbits=" + nbits + ", dsub=" + dsub + ")");
    }
    this.m = m;
    this.nbits = nbits;
    this.ksub = 1 << nbits;
    this.dsub = dsub;
    this.d = m * dsub;
    this.codeSize = (m * nbits + 7) / 8;
    this.codebooks = Checks.finite(codebooks, (long) m * ksub * dsub, "codebooks (M × ksub × dsub)");
    this.norms = L2Kernel.norms(this.codebooks, 0, m * ksub, dsub);
  }

  /** Sub-quantizers {@code M}. */
  public int m() {
    return m;
  }

  /** Bits per sub-code. */
  public int nbits() {
    return nbits;
  }

  /** Codewords per sub-quantizer, {@code 2^nbits}. */
  public int ksub() {
    return ksub;
  }

  /** Dimensions per sub-quantizer. */
  public int dsub() {
    return dsub;
  }

  /** Vector dimension {@code M × dsub}. */
  public int dim() {
    return d;
  }

  /** Bytes per code. */
  public int codeSize() {
    return codeSize;
  }

  /** {@code ||b_{m,k}||²} at {@code [m·ksub + k]} (not a copy: do not modify). */
  public float[] codewordNorms() {
    return norms;
  }

  /** A copy of the {@code M × ksub × dsub} codebooks. */
  public float[] codebooks() {
    return codebooks.clone();
  }

  /**
   * Unpacked sub-codes of {@code n} vectors: {@code out[i·M + m]} is the codeword of sub-quantizer {@code m} nearest
   * to sub-vector {@code m} of row {@code i}.
   *
   * @param x {@code n × d} row-major; @param out {@code n × M} ints
   */
  public void subCodes(float[] x, int n, int[] out) {
    if (x.length < (long) n * d || out.length < (long) n * m) {
      throw new IllegalArgumentException("expected " + n + " × " + d + " floats and " + n + " × " + m + " ints");
    }
    if (vectorSubCodes()) {
      float[] bt = transposedCodebooks();
      int blocksPerSub = ksub / Simd.LANES;
      float[] scratch = new float[2 * Simd.LANES];
      for (int i0 = 0; i0 < n; i0 += ENCODE_BLOCK) { // one sub-quantizer's codebook stays in cache for a block of rows
        int i1 = Math.min(n, i0 + ENCODE_BLOCK);
        for (int j = 0; j < m; j++) {
          for (int i = i0; i < i1; i++) {
            out[i * m + j] = VectorKernels.nearestCodeword(x, i * d + j * dsub, bt, j * blocksPerSub, norms,
                j * ksub, ksub, dsub, scratch);
          }
        }
      }
      return;
    }
    for (int j = 0; j < m; j++) {
      L2Kernel.nearest(x, j * dsub, d, n, codebooks, j * ksub * dsub, norms, j * ksub, ksub, dsub, out, j, m);
    }
  }

  /**
   * Whether {@link #subCodes} runs on the Vector API ({@link VectorKernels#nearestCodeword}: one lane per codeword,
   * {@link L2Kernel#nearest}'s answer bit for bit): when {@link Simd#ENABLED} and {@code ksub} is a multiple of the
   * lanes. Measured faster than a BLAS {@code sgemm} of the products plus the shortlist re-check, so the {@link
   * BlockProducts} form then uses it too.
   */
  private boolean vectorSubCodes() {
    return Simd.ENABLED && ksub % Simd.LANES == 0;
  }

  /** {@link VectorKernels#blockTranspose} of the codebooks, cached (ADC tables and {@link #subCodes}). */
  private float[] transposedCodebooks() {
    float[] bt = codebooksT;
    if (bt == null) {
      bt = VectorKernels.blockTranspose(codebooks, 0, m * ksub, dsub);
      codebooksT = bt;
    }
    return bt;
  }

  /** Rows per {@link BlockProducts} call in {@link #subCodes(float[], int, int[], BlockProducts)}. */
  private static final int GEMM_ROWS = 256;

  /**
   * {@link #subCodes(float[], int, int[])} with the sub-vector × codebook inner products in {@code gemm} (e.g. a
   * native BLAS {@code sgemm}, FAISS's {@code exhaustive_L2sqr_blas} form {@code ||b||² − 2 x·b}): one call per
   * sub-quantizer per {@value #GEMM_ROWS} vectors ({@code rows × dsub} sub-vectors against the {@code ksub × dsub}
   * codebook). The same sub-codes bit for bit, whatever {@code gemm}'s summation order: the products only
   * shortlist codewords, the reference kernel decides ({@link L2Kernel#nearestFromProducts}, the pattern of {@link
   * CoarseQuantizer#assign(float[], int, int[], BlockProducts)}). When the Vector API form of {@link
   * #subCodes(float[], int, int[])} applies it is used instead (the same sub-codes; measured 3× less CPU than the
   * products path with native OpenBLAS in the OPQ/PQ passes at {@code dsub = 8}, where a GEMM's inner dimension is
   * only 8: docs/benchmarks.md).
   *
   * @param x {@code n × d} row-major; @param out {@code n × M} ints
   * @param gemm inner-product kernel; null: {@link #subCodes(float[], int, int[])}
   */
  public void subCodes(float[] x, int n, int[] out, BlockProducts gemm) {
    if (gemm == null || vectorSubCodes()) {
      subCodes(x, n, out);
    } else {
      subCodesFromProducts(x, n, out, gemm);
    }
  }

  /** {@link #subCodes(float[], int, int[], BlockProducts)}'s products path (always, for tests). */
  void subCodesFromProducts(float[] x, int n, int[] out, BlockProducts gemm) {
    if (x.length < (long) n * d || out.length < (long) n * m) {
      throw new IllegalArgumentException("expected " + n + " × " + d + " floats and " + n + " × " + m + " ints");
    }
    float[][] books = subCodebooks();
    int rowsPer = Math.max(1, Math.min(GEMM_ROWS, n));
    float[] xs = new float[rowsPer * dsub];
    float[] p = new float[rowsPer * ksub];
    for (int i0 = 0; i0 < n; i0 += rowsPer) {
      int nb = Math.min(rowsPer, n - i0);
      for (int j = 0; j < m; j++) {
        for (int i = 0; i < nb; i++) {
          System.arraycopy(x, (i0 + i) * d + j * dsub, xs, i * dsub, dsub);
        }
        gemm.products(xs, nb, books[j], ksub, dsub, p);
        L2Kernel.nearestFromProducts(xs, 0, dsub, nb, books[j], 0, norms, j * ksub, ksub, dsub, p, out,
            i0 * m + j, m);
      }
    }
  }

  /** The {@code M} codebooks as separate {@code ksub × dsub} arrays (the {@link BlockProducts} operand), cached. */
  private float[][] subCodebooks() {
    float[][] b = subBooks;
    if (b == null) {
      b = new float[m][];
      for (int j = 0; j < m; j++) {
        b[j] = Arrays.copyOfRange(codebooks, j * ksub * dsub, (j + 1) * ksub * dsub);
      }
      subBooks = b;
    }
    return b;
  }

  /**
   * Encodes {@code n} vectors (normally IVF residuals), blocked over vectors and sub-quantizers.
   *
   * @param x {@code n × d} row-major
   * @param codes destination, {@code n × codeSize} bytes
   * @throws IllegalArgumentException when an array is too short
   */
  public void encode(float[] x, int n, byte[] codes) {
    if (codes.length < (long) n * codeSize) {
      throw new IllegalArgumentException("codes: expected " + n + " × " + codeSize + " bytes, got " + codes.length);
    }
    int[] sub = new int[Math.min(n, ENCODE_BLOCK) * m];
    float[] block = n <= ENCODE_BLOCK ? x : new float[ENCODE_BLOCK * d];
    for (int i0 = 0; i0 < n; i0 += ENCODE_BLOCK) {
      int nb = Math.min(ENCODE_BLOCK, n - i0);
      if (block != x) {
        System.arraycopy(x, i0 * d, block, 0, nb * d);
      }
      subCodes(block, nb, sub);
      for (int i = 0; i < nb; i++) {
        pack(sub, i * m, codes, (i0 + i) * codeSize);
      }
    }
  }

  /** Packs {@code M} sub-codes from {@code sub[so..]} into {@code codeSize} bytes at {@code out[oo]}. */
  void pack(int[] sub, int so, byte[] out, int oo) {
    if (nbits == 8) {
      for (int j = 0; j < m; j++) {
        out[oo + j] = (byte) sub[so + j];
      }
    } else {
      Arrays.fill(out, oo, oo + codeSize, (byte) 0);
      for (int j = 0; j < m; j++) {
        PqCodes.put(out, oo, j, nbits, sub[so + j]);
      }
    }
  }

  /** Sub-code {@code j} of the code at {@code offset}. */
  public int subCode(byte[] code, int offset, int j) {
    return nbits == 8 ? code[offset + j] & 0xFF : PqCodes.get(code, offset, j, nbits);
  }

  /** Adds the reconstruction {@code [b_{0,c_0} … b_{M−1,c_{M−1}}]} of the code at {@code offset} to {@code out}. */
  public void addReconstruction(byte[] code, int offset, float[] out, int oo) {
    for (int j = 0; j < m; j++) {
      int base = (j * ksub + subCode(code, offset, j)) * dsub;
      for (int t = 0; t < dsub; t++) {
        out[oo + j * dsub + t] += codebooks[base + t];
      }
    }
  }

  /** Adds codeword {@code k} of sub-quantizer {@code j} to {@code out[oo, oo+dsub)} (the Lloyd/OPQ statistics). */
  public void addCodeword(int j, int k, float[] out, int oo) {
    int base = (j * ksub + k) * dsub;
    for (int t = 0; t < dsub; t++) {
      out[oo + t] += codebooks[base + t];
    }
  }

  /**
   * Inner-product ADC table of a transformed query: {@code table[m·ksub + k] = <x_m, b_{m,k}>}, each entry
   * {@code VectorMath.dot}'s float operations in its order (on the Vector API when {@link Simd#ENABLED}: one lane per
   * codeword, same bits). Also the query term of the precomputed L2 decomposition ({@link io.quarry.core.quant.ivf.IvfPqSearcher}).
   *
   * @param x a {@code d}-vector; @param table {@code M × ksub} floats (overwritten)
   * @throws IllegalArgumentException when an array is too short
   */
  public void innerProductTable(float[] x, float[] table) {
    if (x.length < d || table.length < m * ksub) {
      throw new IllegalArgumentException("expected a " + d + "-vector and " + m + " × " + ksub + " table floats");
    }
    if (Simd.ENABLED && ksub % Simd.LANES == 0) {
      VectorKernels.ipTable(x, 0, transposedCodebooks(), m, ksub, dsub, table);
    } else {
      innerProductTableScalar(x, table);
    }
  }

  /** {@link #innerProductTable} in scalar loops (the fallback, and the reference of {@link VectorKernels#ipTable}). */
  void innerProductTableScalar(float[] x, float[] table) {
    for (int j = 0; j < m; j++) {
      int xo = j * dsub;
      int to = j * ksub;
      if (dsub == 8) {
        // VectorMath.dot's operations in its order (lanes i mod 4, then (s0 + s1) + (s2 + s3)), with the query's
        // sub-vector held in locals: bit-identical, without reloading it for every codeword
        float a0 = x[xo];
        float a1 = x[xo + 1];
        float a2 = x[xo + 2];
        float a3 = x[xo + 3];
        float a4 = x[xo + 4];
        float a5 = x[xo + 5];
        float a6 = x[xo + 6];
        float a7 = x[xo + 7];
        for (int c = 0, b = to * 8; c < ksub; c++, b += 8) {
          float s0 = 0f;
          float s1 = 0f;
          float s2 = 0f;
          float s3 = 0f;
          s0 += a0 * codebooks[b];
          s1 += a1 * codebooks[b + 1];
          s2 += a2 * codebooks[b + 2];
          s3 += a3 * codebooks[b + 3];
          s0 += a4 * codebooks[b + 4];
          s1 += a5 * codebooks[b + 5];
          s2 += a6 * codebooks[b + 6];
          s3 += a7 * codebooks[b + 7];
          table[to + c] = (s0 + s1) + (s2 + s3);
        }
      } else {
        for (int c = 0; c < ksub; c++) {
          table[to + c] = VectorMath.dot(x, xo, codebooks, (to + c) * dsub, dsub);
        }
      }
    }
  }

  /**
   * L2 ADC table of a residual {@code r = xt − c_list}: {@code table[m·ksub + k] = ||r_m − b_{m,k}||²}.
   *
   * @param r a {@code d}-vector; @param table {@code M × ksub} floats (overwritten)
   */
  public void l2Table(float[] r, float[] table) {
    for (int j = 0; j < m; j++) {
      int xo = j * dsub;
      int to = j * ksub;
      if (dsub == 8) {
        // VectorMath.l2sq's operations in its order, the residual's sub-vector in locals (bit-identical)
        float a0 = r[xo];
        float a1 = r[xo + 1];
        float a2 = r[xo + 2];
        float a3 = r[xo + 3];
        float a4 = r[xo + 4];
        float a5 = r[xo + 5];
        float a6 = r[xo + 6];
        float a7 = r[xo + 7];
        for (int c = 0, b = to * 8; c < ksub; c++, b += 8) {
          float s0 = 0f;
          float s1 = 0f;
          float s2 = 0f;
          float s3 = 0f;
          float d0 = a0 - codebooks[b];
          float d1 = a1 - codebooks[b + 1];
          float d2 = a2 - codebooks[b + 2];
          float d3 = a3 - codebooks[b + 3];
          s0 += d0 * d0;
          s1 += d1 * d1;
          s2 += d2 * d2;
          s3 += d3 * d3;
          d0 = a4 - codebooks[b + 4];
          d1 = a5 - codebooks[b + 5];
          d2 = a6 - codebooks[b + 6];
          d3 = a7 - codebooks[b + 7];
          s0 += d0 * d0;
          s1 += d1 * d1;
          s2 += d2 * d2;
          s3 += d3 * d3;
          table[to + c] = (s0 + s1) + (s2 + s3);
        }
      } else {
        for (int c = 0; c < ksub; c++) {
          table[to + c] = VectorMath.l2sq(r, xo, codebooks, (to + c) * dsub, dsub);
        }
      }
    }
  }

  @Override
  public String toString() {
    return "ProductQuantizer[M=" + m + ", nbits=" + nbits + ", dsub=" + dsub + "]";
  }
}
