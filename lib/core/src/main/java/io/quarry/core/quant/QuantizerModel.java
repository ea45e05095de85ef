package io.quarry.core.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

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
 * <p>File format ({@link #write}, version {@value #FORMAT_VERSION}), big-endian:
 *
 * <pre>
 *   magic        8 bytes  "QRYQUANT"
 *   version      int32    format version (2)
 *   headerLen    int32    bytes of the header
 *   header       UTF-8 JSON object: format, formatVersion, spec, d, metric, nlist, M, nbits, ksub, dsub, codeSize,
 *                hasRotation, sections [tags in file order], sampleSize, maxPointsPerCentroid, seed, sparkVersion,
 *                quarryVersion, metrics {name: value}
 *   sections     in this order, each present only when the spec has the component:
 *                  tag      4 ASCII bytes
 *                  length   int64    bytes of the body that follows
 *                  body     the component's own layout:
 *                    "OPQR"  VectorTransform:  int32 d, float32[d × d]
 *                    "IVFC"  CoarseQuantizer:  int32 nlist, int32 d, float32[nlist × d]
 *                    "PQCB"  ProductQuantizer: int32 M, int32 nbits, int32 dsub, float32[M × ksub × dsub]
 *   footer       int64    CRC32 of every preceding byte
 * </pre>
 *
 * A section with an unknown tag is skipped (by its length). Version 1 files (written before issue 12: no section
 * framing — {@code rotation float32[d × d]} when hasRotation, {@code centroids float32[nlist × d]} always (one zero row
 * without IVF), {@code codebooks float32[M × ksub × dsub]} unless Flat) are still read, so indexes published before
 * the change keep serving; {@code src/test/resources/golden/quantizer-v1} pins that. Readers reject an unknown magic,
 * a newer format version, an inconsistent header or section, a truncated file or a CRC mismatch, with an {@link
 * IOException} naming the source.
 */
public final class QuantizerModel implements Serializable {
  private static final long serialVersionUID = 2L;

  /** Magic bytes at the start of a model file. */
  public static final String MAGIC = "QRYQUANT";

  /** Current (and newest readable) file format version. */
  public static final int FORMAT_VERSION = 2;

  /** Rows processed together by {@link #encodeBatch} (bounds its temporaries to a few {@code d}-row blocks). */
  public static final int ENCODE_BLOCK = 1024;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final IndexSpec spec;
  private final Metric metric;
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
  public QuantizerModel(IndexSpec spec, Metric metric, VectorTransform transform, CoarseQuantizer coarse,
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
  public QuantizerModel(IndexSpec spec, Metric metric, int d, float[] rotation, float[] centroids,
      float[] codebooks, TrainingInfo info) {
    this(spec, metric, spec.transform(d, rotation), spec.coarse(d, centroids), spec.productQuantizer(d, codebooks),
        info);
  }

  public IndexSpec spec() {
    return spec;
  }

  public Metric metric() {
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

  // ------------------------------------------------------------------------------------------------ I/O

  private List<String> sections() {
    List<String> s = new ArrayList<>(3);
    if (!transform.isIdentity()) {
      s.add(VectorTransform.SECTION);
    }
    if (spec.hasIvf()) {
      s.add(CoarseQuantizer.SECTION);
    }
    if (pq != null) {
      s.add(ProductQuantizer.SECTION);
    }
    return s;
  }

  /** Writes the model in the format described in the class javadoc (version 2). Does not close {@code out}. */
  public void write(OutputStream out) throws IOException {
    CheckedOutputStream checked = new CheckedOutputStream(out, new CRC32());
    DataOutputStream data = new DataOutputStream(checked);
    data.write(MAGIC.getBytes(StandardCharsets.US_ASCII));
    data.writeInt(FORMAT_VERSION);
    byte[] header = JSON.writeValueAsBytes(headerJson());
    data.writeInt(header.length);
    data.write(header);
    for (String tag : sections()) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      DataOutputStream b = new DataOutputStream(body);
      switch (tag) {
        case VectorTransform.SECTION -> transform.writeSection(b);
        case CoarseQuantizer.SECTION -> coarse.writeSection(b);
        default -> pq.writeSection(b);
      }
      b.flush();
      data.write(tag.getBytes(StandardCharsets.US_ASCII));
      data.writeLong(body.size());
      body.writeTo(data);
    }
    data.flush();
    long crc = checked.getChecksum().getValue();
    new DataOutputStream(out).writeLong(crc);
    out.flush();
  }

  /** The header as JSON (also the basis of the human-readable {@code quantizer.json}). */
  public ObjectNode headerJson() {
    ObjectNode h = JSON.createObjectNode();
    h.put("format", "quarry-quantizer");
    h.put("formatVersion", FORMAT_VERSION);
    h.put("spec", spec.toString());
    h.put("d", d);
    h.put("metric", metric.name().toLowerCase(java.util.Locale.ROOT));
    h.put("nlist", nlist());
    h.put("M", m());
    h.put("nbits", nbits());
    h.put("ksub", ksub());
    h.put("dsub", dsub());
    h.put("codeSize", codeSize());
    h.put("hasRotation", hasRotation());
    sections().forEach(h.putArray("sections")::add);
    h.put("sampleSize", info.sampleSize());
    h.put("maxPointsPerCentroid", info.maxPointsPerCentroid());
    h.put("seed", info.seed());
    h.put("sparkVersion", info.sparkVersion());
    h.put("quarryVersion", info.quarryVersion());
    ObjectNode metrics = h.putObject("metrics");
    info.metrics().forEach(metrics::put);
    return h;
  }

  /** The bytes of {@link #write}. */
  public byte[] toBytes() {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try {
      write(bos);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bos.toByteArray();
  }

  /**
   * Reads a model written by {@link #write} (format version 2) or by the version-1 writer. Does not close {@code in}.
   *
   * @param sourceName the file name or URI, used in error messages
   * @throws IOException naming {@code sourceName} when the input is not a model file, has a newer format version,
   *     is truncated, has an inconsistent header or section or fails the CRC32 check
   */
  public static QuantizerModel read(InputStream in, String sourceName) throws IOException {
    CheckedInputStream checked = new CheckedInputStream(in, new CRC32());
    DataInputStream data = new DataInputStream(checked);
    try {
      byte[] magic = new byte[MAGIC.length()];
      data.readFully(magic);
      if (!MAGIC.equals(new String(magic, StandardCharsets.US_ASCII))) {
        throw new IOException(sourceName + ": not a Quarry quantizer file (bad magic)");
      }
      int version = data.readInt();
      if (version < 1 || version > FORMAT_VERSION) {
        throw new IOException(sourceName + ": unsupported quantizer format version " + version
            + " (this build reads 1.." + FORMAT_VERSION + ")");
      }
      int headerLen = data.readInt();
      if (headerLen <= 0 || headerLen > (1 << 24)) {
        throw new IOException(sourceName + ": corrupt header length " + headerLen);
      }
      byte[] headerBytes = new byte[headerLen];
      data.readFully(headerBytes);
      JsonNode h;
      try {
        h = JSON.readTree(headerBytes);
      } catch (IOException e) {
        throw new IOException(sourceName + ": corrupt header JSON: " + e.getMessage(), e);
      }
      IndexSpec spec;
      Metric metric;
      int d;
      try {
        spec = IndexSpec.parse(required(h, "spec", sourceName).asText());
        metric = Metric.parse(required(h, "metric", sourceName).asText());
        d = required(h, "d", sourceName).asInt();
        spec.validateFor(d);
      } catch (IllegalArgumentException e) {
        throw new IOException(sourceName + ": invalid header: " + e.getMessage(), e);
      }
      boolean hasRotation = required(h, "hasRotation", sourceName).asBoolean();
      if (hasRotation != spec.hasOpq()) {
        throw new IOException(sourceName + ": header hasRotation=" + hasRotation + " contradicts spec " + spec);
      }
      VectorTransform transform;
      CoarseQuantizer coarse;
      ProductQuantizer pq;
      try {
        if (version == 1) {
          int nlist = spec.effectiveNlist();
          float[] rotation = hasRotation ? Checks.readFloats(data, (long) d * d, sourceName, "rotation") : null;
          float[] centroids = Checks.readFloats(data, (long) nlist * d, sourceName, "centroids");
          float[] codebooks = spec.isFlat() ? null
              : Checks.readFloats(data, (long) spec.pqM() * spec.ksub() * (d / spec.pqM()), sourceName, "codebooks");
          transform = spec.transform(d, rotation);
          coarse = spec.coarse(d, centroids);
          pq = spec.productQuantizer(d, codebooks);
        } else {
          transform = VectorTransform.identity(d);
          coarse = CoarseQuantizer.single(d);
          pq = null;
          for (String tag : expectedSections(spec)) {
            String found = readTag(data, sourceName);
            long len = data.readLong();
            while (!found.equals(tag) && !isKnown(found)) { // a newer writer's extra section: skip it
              data.skipNBytes(len);
              found = readTag(data, sourceName);
              len = data.readLong();
            }
            if (!found.equals(tag)) {
              throw new IOException(sourceName + ": expected section " + tag + " for spec " + spec + ", found "
                  + found);
            }
            switch (tag) {
              case VectorTransform.SECTION -> transform = VectorTransform.readSection(data, d, sourceName);
              case CoarseQuantizer.SECTION ->
                  coarse = CoarseQuantizer.readSection(data, spec.effectiveNlist(), d, sourceName);
              default -> pq = ProductQuantizer.readSection(data, spec.pqM(), spec.nbits(), d / spec.pqM(),
                  sourceName);
            }
          }
        }
      } catch (IllegalArgumentException e) {
        throw new IOException(sourceName + ": invalid model: " + e.getMessage(), e);
      }
      long expected = checked.getChecksum().getValue();
      long stored = new DataInputStream(in).readLong();
      if (stored != expected) {
        throw new IOException(sourceName + ": CRC32 mismatch (stored " + Long.toHexString(stored) + ", computed "
            + Long.toHexString(expected) + "): the file is corrupt");
      }
      Map<String, Double> metrics = new TreeMap<>();
      JsonNode mj = h.get("metrics");
      if (mj != null) {
        mj.properties().forEach(e -> metrics.put(e.getKey(), e.getValue().asDouble()));
      }
      TrainingInfo info = new TrainingInfo(
          h.path("sampleSize").asLong(), h.path("seed").asLong(), h.path("sparkVersion").asText("none"),
          h.path("quarryVersion").asText("dev"), metrics, h.path("maxPointsPerCentroid").asInt(0));
      try {
        return new QuantizerModel(spec, metric, transform, coarse, pq, info);
      } catch (IllegalArgumentException e) {
        throw new IOException(sourceName + ": invalid model: " + e.getMessage(), e);
      }
    } catch (EOFException e) {
      throw new IOException(sourceName + ": truncated quantizer file", e);
    }
  }

  private static List<String> expectedSections(IndexSpec spec) {
    List<String> s = new ArrayList<>(3);
    if (spec.hasOpq()) {
      s.add(VectorTransform.SECTION);
    }
    if (spec.hasIvf()) {
      s.add(CoarseQuantizer.SECTION);
    }
    if (!spec.isFlat()) {
      s.add(ProductQuantizer.SECTION);
    }
    return s;
  }

  private static boolean isKnown(String tag) {
    return tag.equals(VectorTransform.SECTION) || tag.equals(CoarseQuantizer.SECTION)
        || tag.equals(ProductQuantizer.SECTION);
  }

  private static String readTag(DataInputStream in, String source) throws IOException {
    byte[] t = new byte[4];
    in.readFully(t);
    return new String(t, StandardCharsets.US_ASCII);
  }

  private static JsonNode required(JsonNode h, String field, String source) throws IOException {
    JsonNode v = h.get(field);
    if (v == null || v.isNull()) {
      throw new IOException(source + ": header misses field '" + field + "'");
    }
    return v;
  }

  /** Reads a model from bytes (tests). */
  public static QuantizerModel fromBytes(byte[] bytes, String sourceName) throws IOException {
    return read(new java.io.ByteArrayInputStream(bytes), sourceName);
  }

  @Override
  public String toString() {
    return "QuantizerModel[" + spec + ", d=" + d + ", metric=" + metric + ", codeSize=" + codeSize() + "]";
  }
}
