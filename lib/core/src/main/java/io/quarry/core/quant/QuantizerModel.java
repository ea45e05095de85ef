package io.quarry.core.quant;

import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.component.ProductQuantizer;
import io.quarry.core.quant.component.VectorTransform;
import io.quarry.core.quant.kernel.BlockProducts;
import io.quarry.core.quant.kernel.VectorMath;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A trained vector quantizer in FAISS's shape: a chain of a {@link VectorTransform} (the OPQ rotation, identity
 * without OPQ), a {@link CoarseQuantizer} (IVF centroids; one zero centroid without IVF) and a {@link
 * ProductQuantizer} of the residuals (absent for {@code Flat}), plus the {@link IndexSpec} that describes the chain,
 * the metric and the {@link TrainingInfo}. IVFADC of Jégou et al., "Product Quantization for Nearest Neighbor
 * Search", TPAMI 2011; OPQ of Ge et al., "Optimized Product Quantization for Approximate Nearest Neighbor Search",
 * CVPR 2013. Immutable and thread-safe; {@link Serializable} so Spark can broadcast it. This class only composes: the
 * math of each step is in its component, and the per-vector methods ({@link #encodeVector}, {@link #preTransform},
 * {@link #assign}) run the same kernels as the batch method {@link #encodeBatch}.
 *
 * <p>Shapes (all float32, row-major): rotation {@code R} {@code d × d}; centroids {@code nlist × d} in the rotated
 * space; codebooks {@code M × ksub × dsub} with {@code ksub = 2^nbits}, {@code dsub = d / M}; sub-quantizer {@code m}
 * covers dimensions {@code [m·dsub, (m+1)·dsub)} of the residual {@code xt − c_list}.
 *
 * <p>Codes: {@link #codeSize()} bytes per vector; PQ codes bit-packed least-significant bit first (FAISS
 * {@code PQEncoderGeneric}); {@code Flat} codes are the rotated vector itself as {@code d} little-endian float32.
 *
 * <p>Bytes: {@link io.quarry.core.quant.format.QuantizerFormat} writes and reads a model ({@code quantizer.bin});
 * the format is specified there and in docs/segment-format.md.
 */
public final class QuantizerModel implements Serializable {
  private static final long serialVersionUID = 2L;

  /** Rows processed together by {@link #encodeBatch} (bounds its temporaries to a few {@code d}-row blocks). */
  public static final int ENCODE_BLOCK = 1024;

  private final IndexSpec spec;
  private final DistanceMetric metric;
  private final int d;
  private final VectorTransform transform;
  private final CoarseQuantizer coarse;
  private final ProductQuantizer pq;
  private final TrainingInfo info;

  /**
   * Assembles a model from its components; {@link IndexSpec#checkChain} checks they are the chain the spec
   * describes.
   *
   * @param transform the OPQ rotation, or {@link VectorTransform#identity} without OPQ
   * @param coarse the IVF quantizer, or {@link CoarseQuantizer#single} without IVF
   * @param pq the product quantizer; null for Flat
   * @param info provenance and training metrics (null: none)
   * @throws IllegalArgumentException when a component does not match the spec or {@code d}
   */
  public QuantizerModel(IndexSpec spec, DistanceMetric metric, VectorTransform transform, CoarseQuantizer coarse,
      ProductQuantizer pq, TrainingInfo info) {
    this.spec = java.util.Objects.requireNonNull(spec, "spec");
    this.metric = java.util.Objects.requireNonNull(metric, "metric");
    spec.checkChain(transform, coarse, pq);
    this.d = transform.dim();
    this.transform = transform;
    this.coarse = coarse;
    this.pq = pq;
    this.info = info == null ? TrainingInfo.of(0, 0) : info;
  }

  /**
   * Assembles a model from trained arrays (copied).
   *
   * @param d vector dimension
   * @param rotation {@code d × d} OPQ rotation, required iff {@code spec.hasOpq()}
   * @param centroids {@code nlist × d} coarse centroids when {@code spec.hasIvf()}; ignored (may be null) otherwise
   * @param codebooks {@code M × ksub × dsub} PQ codebooks; null for Flat
   * @param info provenance and training metrics
   * @throws IllegalArgumentException when a shape does not match the spec, or a value is not finite
   */
  public QuantizerModel(IndexSpec spec, DistanceMetric metric, int d, float[] rotation, float[] centroids,
      float[] codebooks, TrainingInfo info) {
    this(spec, metric, spec.transform(d, rotation), spec.coarse(d, centroids), spec.productQuantizer(d, codebooks),
        info);
  }

  public IndexSpec spec() {
    return spec;
  }

  public DistanceMetric metric() {
    return metric;
  }

  /** The vector transform (OPQ rotation or identity). */
  public VectorTransform transform() {
    return transform;
  }

  /** The coarse quantizer (IVF, or the single zero centroid). */
  public CoarseQuantizer coarse() {
    return coarse;
  }

  /** The product quantizer of the residuals, or null for Flat. */
  public ProductQuantizer pq() {
    return pq;
  }

  /** Vector dimension {@code d}. */
  public int dim() {
    return d;
  }

  /** Number of inverted lists ({@code nlist}, 1 without IVF). */
  public int nlist() {
    return coarse.nlist();
  }

  /** PQ sub-quantizers {@code M} (0 for Flat). */
  public int m() {
    return pq == null ? 0 : pq.m();
  }

  /** Bits per sub-code (0 for Flat). */
  public int nbits() {
    return pq == null ? 0 : pq.nbits();
  }

  /** Centroids per sub-quantizer, {@code 2^nbits} (0 for Flat). */
  public int ksub() {
    return pq == null ? 0 : pq.ksub();
  }

  /** Dimensions per sub-quantizer, {@code d / M} (0 for Flat). */
  public int dsub() {
    return pq == null ? 0 : pq.dsub();
  }

  /** Bytes per code. */
  public int codeSize() {
    return pq == null ? 4 * d : pq.codeSize();
  }

  public TrainingInfo info() {
    return info;
  }

  /** True when an OPQ rotation is applied by {@link #preTransform}. */
  public boolean hasRotation() {
    return !transform.isIdentity();
  }

  /** A copy of the {@code d × d} rotation, or null. */
  public float[] rotation() {
    return transform.matrix();
  }

  /** A copy of the {@code nlist × d} centroids (one zero row without IVF). */
  public float[] centroids() {
    return coarse.centroids();
  }

  /** A copy of the {@code M × ksub × dsub} codebooks, or null for Flat. */
  public float[] codebooks() {
    return pq == null ? null : pq.codebooks();
  }

  /** A copy of centroid {@code list} ({@code d} floats). */
  public float[] centroid(int list) {
    return coarse.centroid(list);
  }

  /** Returns the model with different training info (used by trainers to attach metrics). */
  public QuantizerModel withInfo(TrainingInfo newInfo) {
    return new QuantizerModel(spec, metric, transform, coarse, pq, newInfo);
  }

  // ------------------------------------------------------------------------------------------------ per vector

  /** {@link VectorTransform#apply(float[])}: {@code xt = R x} (a copy without OPQ). */
  public float[] preTransform(float[] x) {
    return transform.apply(x);
  }

  /** {@link CoarseQuantizer#distance}. */
  public float centroidDistance(float[] xt, int list) {
    return coarse.distance(xt, list);
  }

  /** {@link CoarseQuantizer#dot}. */
  public float centroidDot(float[] xt, int list) {
    return coarse.dot(xt, list);
  }

  /** {@link CoarseQuantizer#assign(float[])}. */
  public int assign(float[] xt) {
    return coarse.assign(xt);
  }

  /** {@link CoarseQuantizer#probe}. */
  public int[] probe(float[] xt, int nprobe) {
    return coarse.probe(xt, nprobe);
  }

  /**
   * Encodes {@code xt} (already pre-transformed) for list {@code list}: PQ codes of the residual {@code xt −
   * c_list}, or the raw floats for Flat.
   *
   * @param out destination; {@code codeSize()} bytes are written at {@code offset}
   * @throws IllegalArgumentException on a wrong dimension or list id
   * @throws IndexOutOfBoundsException when {@code out} is too short
   */
  public void encode(float[] xt, int list, byte[] out, int offset) {
    checkDim(xt);
    coarse.checkList(list);
    java.util.Objects.checkFromIndexSize(offset, codeSize(), out.length);
    byte[] code = new byte[codeSize()];
    encodeRows(xt, 1, new int[] {list}, code);
    System.arraycopy(code, 0, out, offset, code.length);
  }

  /** Codes of {@code n} transformed rows whose lists are known (the one encode path; {@code xt} is not modified). */
  private void encodeRows(float[] xt, int n, int[] lists, byte[] codes) {
    if (pq == null) {
      ByteBuffer.wrap(codes, 0, n * 4 * d).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(xt, 0, n * d);
      return;
    }
    float[] r = new float[n * d];
    coarse.residuals(xt, n, lists, r);
    pq.encode(r, n, codes);
  }

  /** Sub-code {@code j} of the code at {@code offset}. */
  public int subCode(byte[] code, int offset, int j) {
    return pq.subCode(code, offset, j);
  }

  /**
   * Reconstructs the pre-transformed vector from its list and code: {@code c_list + [codeword_0 … codeword_{M−1}]},
   * or the stored floats for Flat.
   *
   * @return a new {@code d}-vector in the rotated space
   */
  public float[] decode(int list, byte[] code, int offset) {
    coarse.checkList(list);
    java.util.Objects.checkFromIndexSize(offset, codeSize(), code.length);
    float[] y = new float[d];
    decodeInto(list, code, offset, y, 0);
    return y;
  }

  private void decodeInto(int list, byte[] code, int offset, float[] y, int yo) {
    if (pq == null) {
      ByteBuffer.wrap(code, offset, codeSize()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(y, yo, d);
      return;
    }
    coarse.addCentroid(list, y, yo);
    pq.addReconstruction(code, offset, y, yo);
  }

  /**
   * Encodes one raw (not yet rotated) vector: {@link #encodeBatch} with {@code n = 1}.
   *
   * @param x a raw {@code d}-vector
   * @return its list, code and squared quantization error {@code ||R x − decode||²} (rotation-invariant, so also
   *     the error in the original space)
   */
  public Encoded encodeVector(float[] x) {
    checkDim(x);
    EncodedBatch b = encodeBatch(x, 1);
    return new Encoded(b.lists()[0], b.codes(), b.squaredErrors()[0]);
  }

  /**
   * Encodes {@code n} raw vectors: rotation, list assignment and PQ codes, each step over blocks of {@value
   * #ENCODE_BLOCK} rows (blocked kernels, not one vector at a time). Row {@code i} gets exactly what {@link
   * #encodeVector} gives for it (same list, code and error). Used by the build stage and the trainer's encoding pass
   * inside {@code mapPartitions}.
   *
   * @param x {@code n × d} raw vectors, row-major (at least {@code n·d} floats)
   * @param n number of vectors, ≥ 0
   * @return lists, {@code n × codeSize} codes and squared errors
   * @throws IllegalArgumentException when {@code x} is shorter than {@code n × d}
   */
  public EncodedBatch encodeBatch(float[] x, int n) {
    return encodeBatch(x, n, null);
  }

  /**
   * {@link #encodeBatch(float[], int)} with the coarse assignment's distance work in {@code gemm} (a BLAS {@code
   * sgemm}; see {@link CoarseQuantizer#assign(float[], int, int[], BlockProducts)}): the same lists, codes and errors
   * bit for bit, at level-3 BLAS speed for the {@code nlist × d} part of the work.
   *
   * @param gemm inner-product kernel for the coarse assignment; null: the reference kernel alone
   */
  public EncodedBatch encodeBatch(float[] x, int n, BlockProducts gemm) {
    if (n < 0 || x.length < (long) n * d) {
      throw new IllegalArgumentException("expected " + n + " × " + d + " floats, got " + x.length);
    }
    int cs = codeSize();
    int[] lists = new int[n];
    byte[] codes = new byte[n * cs];
    float[] err = new float[n];
    int block = Math.min(n, ENCODE_BLOCK);
    float[] xb = new float[block * d];
    float[] xt = new float[block * d];
    int[] lb = new int[block];
    byte[] cb = new byte[block * cs];
    float[] rec = new float[d];
    for (int i0 = 0; i0 < n; i0 += ENCODE_BLOCK) {
      int nb = Math.min(ENCODE_BLOCK, n - i0);
      System.arraycopy(x, i0 * d, xb, 0, nb * d);
      transform.apply(xb, nb, xt);
      coarse.assign(xt, nb, lb, gemm);
      encodeRows(xt, nb, lb, cb);
      System.arraycopy(lb, 0, lists, i0, nb);
      System.arraycopy(cb, 0, codes, i0 * cs, nb * cs);
      for (int i = 0; i < nb; i++) {
        java.util.Arrays.fill(rec, 0f);
        decodeInto(lb[i], cb, i * cs, rec, 0);
        err[i0 + i] = VectorMath.l2sq(xt, i * d, rec, 0, d);
      }
    }
    return new EncodedBatch(n, lists, codes, err);
  }

  /**
   * One encoded vector.
   *
   * @param list its inverted list
   * @param code {@code codeSize()} bytes
   * @param squaredError squared L2 distance between the vector and its reconstruction
   */
  public record Encoded(int list, byte[] code, float squaredError) implements Serializable {}

  /**
   * {@code n} encoded vectors.
   *
   * @param n vectors
   * @param lists {@code n} list ids
   * @param codes {@code n × codeSize} bytes, row {@code i} at {@code i·codeSize}
   * @param squaredErrors {@code n} squared reconstruction errors
   */
  public record EncodedBatch(int n, int[] lists, byte[] codes, float[] squaredErrors) implements Serializable {
    /** A copy of the code of row {@code i}. */
    public byte[] code(int i) {
      int cs = codes.length / Math.max(n, 1);
      return java.util.Arrays.copyOfRange(codes, i * cs, (i + 1) * cs);
    }
  }

  private void checkDim(float[] x) {
    if (x.length != d) {
      throw new IllegalArgumentException("vector has dimension " + x.length + ", the quantizer expects " + d);
    }
  }

  @Override
  public String toString() {
    return "QuantizerModel[" + spec + ", d=" + d + ", metric=" + metric + ", codeSize=" + codeSize() + "]";
  }
}
