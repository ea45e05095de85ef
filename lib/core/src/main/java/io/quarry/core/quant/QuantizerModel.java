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
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * A trained vector quantizer: optional OPQ rotation, IVF coarse centroids and residual PQ codebooks (IVFADC of Jégou
 * et al., "Product Quantization for Nearest Neighbor Search", TPAMI 2011; OPQ of Ge et al., "Optimized Product
 * Quantization for Approximate Nearest Neighbor Search", CVPR 2013). Immutable and thread-safe; {@link Serializable}
 * so Spark can broadcast it.
 *
 * <p>Shapes (all float32, row-major):
 *
 * <ul>
 *   <li>rotation {@code R}: {@code d × d}, orthogonal; {@link #preTransform} computes {@code xt = R x}; absent
 *       without OPQ;
 *   <li>centroids: {@code nlist × d} in the rotated space; without IVF a single all-zero centroid ({@code nlist() =
 *       1}), so the residual is the vector itself;
 *   <li>codebooks: {@code M × ksub × dsub} with {@code ksub = 2^nbits}, {@code dsub = d / M}; sub-quantizer {@code m}
 *       covers dimensions {@code [m·dsub, (m+1)·dsub)} of the residual {@code xt − c_list}.
 * </ul>
 *
 * <p>Codes: {@link #codeSize()} bytes per vector. PQ codes are the M sub-codes bit-packed least-significant bit first
 * (FAISS {@code PQEncoderGeneric}; with {@code nbits = 8} simply one byte per sub-quantizer). {@code Flat} codes are
 * the rotated vector itself as {@code d} little-endian float32 (not a residual).
 *
 * <p>List assignment ({@link #assign}) picks the centroid at the smallest squared L2 distance (the smallest residual,
 * which is what residual PQ needs) for both metrics; {@link #probe} ranks lists by the same L2 distance to the query.
 * For L2-normalized embeddings (Quarry's embedder output) inner-product and L2 rankings coincide, so the probe order is
 * consistent with the {@link Metric#IP} scores. With {@code nprobe = nlist} every list is scanned and the search is
 * exhaustive ADC whatever the probe order.
 *
 * <p>File format ({@link #write}, version {@value #FORMAT_VERSION}), big-endian:
 *
 * <pre>
 *   magic        8 bytes  "QRYQUANT"
 *   version      int32    format version (1)
 *   headerLen    int32    bytes of the header
 *   header       UTF-8 JSON object: format, spec, d, metric, nlist, M, nbits, ksub, dsub, codeSize, hasRotation,
 *                sampleSize, seed, sparkVersion, quarryVersion, metrics {name: value}
 *   rotation     float32[d × d]               (only when hasRotation)
 *   centroids    float32[nlist × d]
 *   codebooks    float32[M × ksub × dsub]     (absent for Flat)
 *   footer       int64    CRC32 of every preceding byte
 * </pre>
 *
 * Readers reject an unknown magic, a newer format version, an inconsistent header, a truncated file or a CRC
 * mismatch, with an {@link IOException} naming the source.
 */
public final class QuantizerModel implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Magic bytes at the start of a model file. */
  public static final String MAGIC = "QRYQUANT";

  /** Current (and newest readable) file format version. */
  public static final int FORMAT_VERSION = 1;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final IndexSpec spec;
  private final Metric metric;
  private final int d;
  private final int nlist;
  private final int m;
  private final int nbits;
  private final int ksub;
  private final int dsub;
  private final int codeSize;
  private final float[] rotation;
  private final float[] centroids;
  private final float[] codebooks;
  private final TrainingInfo info;

  /**
   * Assembles a model from trained parts (arrays are copied).
   *
   * @param spec the index spec
   * @param metric the search metric
   * @param d vector dimension
   * @param rotation {@code d × d} OPQ rotation, required iff {@code spec.hasOpq()}
   * @param centroids {@code nlist × d} coarse centroids when {@code spec.hasIvf()}; ignored (may be null) otherwise
   * @param codebooks {@code M × ksub × dsub} PQ codebooks; null for Flat
   * @param info provenance and training metrics
   * @throws IllegalArgumentException when a shape does not match the spec, or a value is not finite
   */
  public QuantizerModel(
      IndexSpec spec,
      Metric metric,
      int d,
      float[] rotation,
      float[] centroids,
      float[] codebooks,
      TrainingInfo info) {
    spec.validateFor(d);
    this.spec = spec;
    this.metric = java.util.Objects.requireNonNull(metric, "metric");
    this.d = d;
    this.nlist = spec.effectiveNlist();
    this.m = spec.pqM();
    this.nbits = spec.nbits();
    this.ksub = spec.ksub();
    this.dsub = m == 0 ? 0 : d / m;
    this.codeSize = spec.codeSize(d);
    this.info = info == null ? TrainingInfo.of(0, 0) : info;
    if (spec.hasOpq()) {
      this.rotation = checked(rotation, (long) d * d, "rotation (d × d)");
    } else {
      if (rotation != null) {
        throw new IllegalArgumentException("rotation given but spec " + spec + " has no OPQ");
      }
      this.rotation = null;
    }
    this.centroids = spec.hasIvf() ? checked(centroids, (long) nlist * d, "centroids (nlist × d)") : new float[d];
    if (spec.isFlat()) {
      if (codebooks != null) {
        throw new IllegalArgumentException("codebooks given but spec " + spec + " is Flat");
      }
      this.codebooks = null;
    } else {
      this.codebooks = checked(codebooks, (long) m * ksub * dsub, "codebooks (M × ksub × dsub)");
    }
  }

  private static float[] checked(float[] a, long expected, String what) {
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

  public IndexSpec spec() {
    return spec;
  }

  public Metric metric() {
    return metric;
  }

  /** Vector dimension {@code d}. */
  public int dim() {
    return d;
  }

  /** Number of inverted lists ({@code nlist}, 1 without IVF). */
  public int nlist() {
    return nlist;
  }

  /** PQ sub-quantizers {@code M} (0 for Flat). */
  public int m() {
    return m;
  }

  /** Bits per sub-code (0 for Flat). */
  public int nbits() {
    return nbits;
  }

  /** Centroids per sub-quantizer, {@code 2^nbits} (0 for Flat). */
  public int ksub() {
    return ksub;
  }

  /** Dimensions per sub-quantizer, {@code d / M} (0 for Flat). */
  public int dsub() {
    return dsub;
  }

  /** Bytes per code. */
  public int codeSize() {
    return codeSize;
  }

  public TrainingInfo info() {
    return info;
  }

  /** True when an OPQ rotation is applied by {@link #preTransform}. */
  public boolean hasRotation() {
    return rotation != null;
  }

  /** A copy of the {@code d × d} rotation, or null. */
  public float[] rotation() {
    return rotation == null ? null : rotation.clone();
  }

  /** A copy of the {@code nlist × d} centroids (one zero row without IVF). */
  public float[] centroids() {
    return centroids.clone();
  }

  /** A copy of the {@code M × ksub × dsub} codebooks, or null for Flat. */
  public float[] codebooks() {
    return codebooks == null ? null : codebooks.clone();
  }

  /** Read-only view of centroid {@code list} is not exposed; this copies row {@code list} ({@code d} floats). */
  public float[] centroid(int list) {
    checkList(list);
    return Arrays.copyOfRange(centroids, list * d, (list + 1) * d);
  }

  /** Returns the model with different training info (used by trainers to attach metrics). */
  public QuantizerModel withInfo(TrainingInfo newInfo) {
    return new QuantizerModel(spec, metric, d, rotation, spec.hasIvf() ? centroids : null, codebooks, newInfo);
  }

  // ------------------------------------------------------------------------------------------------ transform

  /**
   * Applies the OPQ rotation: {@code xt = R x}. Without OPQ returns a copy of {@code x}.
   *
   * @param x a {@code d}-vector
   * @throws IllegalArgumentException when {@code x.length != d}
   */
  public float[] preTransform(float[] x) {
    checkDim(x);
    if (rotation == null) {
      return x.clone();
    }
    float[] y = new float[d];
    for (int i = 0; i < d; i++) {
      y[i] = VectorMath.dot(rotation, i * d, x, 0, d);
    }
    return y;
  }

  // ------------------------------------------------------------------------------------------------ coarse

  /** Squared L2 distance between {@code xt} and centroid {@code list}. */
  public float centroidDistance(float[] xt, int list) {
    return VectorMath.l2sq(xt, 0, centroids, list * d, d);
  }

  /** Inner product of {@code xt} and centroid {@code list}. */
  public float centroidDot(float[] xt, int list) {
    return VectorMath.dot(centroids, list * d, xt, 0, d);
  }

  /**
   * The list of {@code xt}: the centroid at the smallest squared L2 distance (lowest list id on ties).
   *
   * @param xt a pre-transformed {@code d}-vector
   */
  public int assign(float[] xt) {
    checkDim(xt);
    int best = 0;
    float bestD = Float.POSITIVE_INFINITY;
    for (int l = 0; l < nlist; l++) {
      float dist = VectorMath.l2sq(xt, 0, centroids, l * d, d);
      if (dist < bestD) {
        bestD = dist;
        best = l;
      }
    }
    return best;
  }

  /**
   * The {@code min(nprobe, nlist)} lists to scan for query {@code xt}, best (nearest centroid in L2) first, ties by
   * lower list id.
   *
   * @param xt a pre-transformed query {@code d}-vector
   * @param nprobe lists to return, ≥ 1
   * @throws IllegalArgumentException when {@code nprobe < 1} or the dimension is wrong
   */
  public int[] probe(float[] xt, int nprobe) {
    checkDim(xt);
    if (nprobe < 1) {
      throw new IllegalArgumentException("nprobe must be >= 1, got " + nprobe);
    }
    int n = Math.min(nprobe, nlist);
    float[] dist = new float[nlist];
    for (int l = 0; l < nlist; l++) {
      dist[l] = VectorMath.l2sq(xt, 0, centroids, l * d, d);
    }
    if (n == 1) {
      int best = 0;
      for (int l = 1; l < nlist; l++) {
        if (dist[l] < dist[best]) {
          best = l;
        }
      }
      return new int[] {best};
    }
    Integer[] order = new Integer[nlist];
    for (int l = 0; l < nlist; l++) {
      order[l] = l;
    }
    Arrays.sort(order, (a, b) -> {
      int c = Float.compare(dist[a], dist[b]);
      return c != 0 ? c : Integer.compare(a, b);
    });
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = order[i];
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------ encode

  /**
   * Encodes {@code xt} (already pre-transformed) for list {@code list}: PQ codes of the residual {@code xt −
   * c_list} (nearest sub-centroid per sub-quantizer, lowest index on ties), or the raw floats for Flat.
   *
   * @param xt pre-transformed {@code d}-vector
   * @param list the list the vector is stored in (normally {@link #assign})
   * @param out destination; {@code codeSize()} bytes are written at {@code offset}
   * @throws IllegalArgumentException on a wrong dimension or list id
   * @throws IndexOutOfBoundsException when {@code out} is too short
   */
  public void encode(float[] xt, int list, byte[] out, int offset) {
    checkDim(xt);
    checkList(list);
    java.util.Objects.checkFromIndexSize(offset, codeSize, out.length);
    if (codebooks == null) {
      ByteBuffer.wrap(out, offset, codeSize).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(xt);
      return;
    }
    float[] r = new float[d];
    int cbase = list * d;
    for (int i = 0; i < d; i++) {
      r[i] = xt[i] - centroids[cbase + i];
    }
    if (nbits == 8) {
      for (int j = 0; j < m; j++) {
        out[offset + j] = (byte) nearestSub(j, r);
      }
    } else {
      Arrays.fill(out, offset, offset + codeSize, (byte) 0);
      for (int j = 0; j < m; j++) {
        PqCodes.put(out, offset, j, nbits, nearestSub(j, r));
      }
    }
  }

  /** Index of the codeword of sub-quantizer {@code j} nearest to dimensions of sub-space {@code j} of {@code r}. */
  int nearestSub(int j, float[] r) {
    int best = 0;
    float bestD = Float.POSITIVE_INFINITY;
    int base = j * ksub * dsub;
    int off = j * dsub;
    for (int k = 0; k < ksub; k++) {
      float dist = VectorMath.l2sq(r, off, codebooks, base + k * dsub, dsub);
      if (dist < bestD) {
        bestD = dist;
        best = k;
      }
    }
    return best;
  }

  /** Sub-code {@code j} of the code at {@code offset}. */
  public int subCode(byte[] code, int offset, int j) {
    return nbits == 8 ? code[offset + j] & 0xFF : PqCodes.get(code, offset, j, nbits);
  }

  /**
   * Reconstructs the pre-transformed vector from its list and code: {@code c_list + [codeword_0 … codeword_{M−1}]},
   * or the stored floats for Flat.
   *
   * @return a new {@code d}-vector in the rotated space
   */
  public float[] decode(int list, byte[] code, int offset) {
    checkList(list);
    java.util.Objects.checkFromIndexSize(offset, codeSize, code.length);
    float[] y = new float[d];
    if (codebooks == null) {
      ByteBuffer.wrap(code, offset, codeSize).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(y);
      return y;
    }
    System.arraycopy(centroids, list * d, y, 0, d);
    for (int j = 0; j < m; j++) {
      int k = subCode(code, offset, j);
      int base = (j * ksub + k) * dsub;
      for (int t = 0; t < dsub; t++) {
        y[j * dsub + t] += codebooks[base + t];
      }
    }
    return y;
  }

  /**
   * Encodes a raw (not yet rotated) vector: rotation, list assignment and code in one call. This is what the build
   * stage calls per vector inside Spark's {@code mapPartitions} with a broadcast model.
   *
   * @param x a raw {@code d}-vector
   * @return its list, code and squared quantization error {@code ||R x − decode||²} (rotation-invariant, so also
   *     the error in the original space)
   */
  public Encoded encodeVector(float[] x) {
    float[] xt = preTransform(x);
    int list = assign(xt);
    byte[] code = new byte[codeSize];
    encode(xt, list, code, 0);
    float[] rec = decode(list, code, 0);
    return new Encoded(list, code, VectorMath.l2sq(xt, 0, rec, 0, d));
  }

  /**
   * One encoded vector.
   *
   * @param list its inverted list
   * @param code {@code codeSize()} bytes
   * @param squaredError squared L2 distance between the vector and its reconstruction
   */
  public record Encoded(int list, byte[] code, float squaredError) implements Serializable {}

  private void checkDim(float[] x) {
    if (x.length != d) {
      throw new IllegalArgumentException("vector has dimension " + x.length + ", the quantizer expects " + d);
    }
  }

  private void checkList(int list) {
    if (list < 0 || list >= nlist) {
      throw new IllegalArgumentException("list id " + list + " out of range [0, " + nlist + ")");
    }
  }

  // ------------------------------------------------------------------------------------------------ I/O

  /** Writes the model in the format described in the class javadoc. Does not close {@code out}. */
  public void write(OutputStream out) throws IOException {
    CheckedOutputStream checked = new CheckedOutputStream(out, new CRC32());
    DataOutputStream data = new DataOutputStream(checked);
    data.write(MAGIC.getBytes(StandardCharsets.US_ASCII));
    data.writeInt(FORMAT_VERSION);
    byte[] header = JSON.writeValueAsBytes(headerJson());
    data.writeInt(header.length);
    data.write(header);
    if (rotation != null) {
      writeFloats(data, rotation);
    }
    writeFloats(data, centroids);
    if (codebooks != null) {
      writeFloats(data, codebooks);
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
    h.put("nlist", nlist);
    h.put("M", m);
    h.put("nbits", nbits);
    h.put("ksub", ksub);
    h.put("dsub", dsub);
    h.put("codeSize", codeSize);
    h.put("hasRotation", rotation != null);
    h.put("sampleSize", info.sampleSize());
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

  private static void writeFloats(DataOutputStream out, float[] a) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(4 * 8192).order(ByteOrder.BIG_ENDIAN);
    for (int i = 0; i < a.length; ) {
      buf.clear();
      int n = Math.min(8192, a.length - i);
      buf.asFloatBuffer().put(a, i, n);
      out.write(buf.array(), 0, 4 * n);
      i += n;
    }
  }

  private static float[] readFloats(DataInputStream in, long n, String source, String what) throws IOException {
    if (n > Integer.MAX_VALUE) {
      throw new IOException(source + ": " + what + " too large (" + n + " floats)");
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

  /**
   * Reads a model written by {@link #write}. Does not close {@code in}.
   *
   * @param sourceName the file name or URI, used in error messages
   * @throws IOException naming {@code sourceName} when the input is not a model file, has a newer format version,
   *     is truncated, has an inconsistent header or fails the CRC32 check
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
      int nlist = spec.effectiveNlist();
      float[] rotation = hasRotation ? readFloats(data, (long) d * d, sourceName, "rotation") : null;
      float[] centroids = readFloats(data, (long) nlist * d, sourceName, "centroids");
      float[] codebooks = spec.isFlat()
          ? null
          : readFloats(data, (long) spec.pqM() * spec.ksub() * (d / spec.pqM()), sourceName, "codebooks");
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
          h.path("quarryVersion").asText("dev"), metrics);
      try {
        return new QuantizerModel(spec, metric, d, rotation, spec.hasIvf() ? centroids : null, codebooks, info);
      } catch (IllegalArgumentException e) {
        throw new IOException(sourceName + ": invalid model: " + e.getMessage(), e);
      }
    } catch (EOFException e) {
      throw new IOException(sourceName + ": truncated quantizer file", e);
    }
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
    return "QuantizerModel[" + spec + ", d=" + d + ", metric=" + metric + ", codeSize=" + codeSize + "]";
  }
}
