package io.quarry.core.quant.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.TrainingInfo;
import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.component.ProductQuantizer;
import io.quarry.core.quant.component.VectorTransform;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The file format of a {@link QuantizerModel} ({@code quantizer.bin}): this class is its specification, its writer
 * (format version {@value #FORMAT_VERSION}) and its reader; version-1 bodies are read by {@link QuantizerFormatV1}.
 * Big-endian:
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
 * A section with an unknown tag is skipped (by its length). Readers reject an unknown magic, a newer format version,
 * an inconsistent header or section, a truncated file or a CRC mismatch, with an {@link IOException} naming the
 * source. Golden files: {@code lib/core/src/test/resources/golden/quantizer-v1} and {@code quantizer-v2}.
 */
public final class QuantizerFormat {
  /** Magic bytes at the start of a model file. */
  public static final String MAGIC = "QRYQUANT";

  /** Current (and newest readable) file format version. */
  public static final int FORMAT_VERSION = 2;

  /** Section tag of the OPQ rotation ({@link VectorTransform}). */
  public static final String ROTATION = "OPQR";

  /** Section tag of the IVF centroids ({@link CoarseQuantizer}). */
  public static final String CENTROIDS = "IVFC";

  /** Section tag of the PQ codebooks ({@link ProductQuantizer}). */
  public static final String CODEBOOKS = "PQCB";

  private static final ObjectMapper JSON = new ObjectMapper();

  private QuantizerFormat() {}

  /** Writes {@code model} in format version {@value #FORMAT_VERSION}. Does not close {@code out}. */
  public static void write(QuantizerModel model, OutputStream out) throws IOException {
    CheckedOutputStream checked = new CheckedOutputStream(out, new CRC32());
    DataOutputStream data = new DataOutputStream(checked);
    data.write(MAGIC.getBytes(StandardCharsets.US_ASCII));
    data.writeInt(FORMAT_VERSION);
    byte[] header = JSON.writeValueAsBytes(headerJson(model));
    data.writeInt(header.length);
    data.write(header);
    for (String tag : sections(model.spec())) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      DataOutputStream b = new DataOutputStream(body);
      switch (tag) {
        case ROTATION -> writeRotation(b, model.transform());
        case CENTROIDS -> writeCentroids(b, model.coarse());
        default -> writeCodebooks(b, model.pq());
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

  /** The bytes {@link #write} writes. */
  public static byte[] toBytes(QuantizerModel model) {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try {
      write(model, bos);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bos.toByteArray();
  }

  /** The header as JSON (also the basis of the human-readable {@code quantizer.json}). */
  public static ObjectNode headerJson(QuantizerModel model) {
    TrainingInfo info = model.info();
    ObjectNode h = JSON.createObjectNode();
    h.put("format", "quarry-quantizer");
    h.put("formatVersion", FORMAT_VERSION);
    h.put("spec", model.spec().toString());
    h.put("d", model.dim());
    h.put("metric", model.metric().name().toLowerCase(Locale.ROOT));
    h.put("nlist", model.nlist());
    h.put("M", model.m());
    h.put("nbits", model.nbits());
    h.put("ksub", model.ksub());
    h.put("dsub", model.dsub());
    h.put("codeSize", model.codeSize());
    h.put("hasRotation", model.hasRotation());
    sections(model.spec()).forEach(h.putArray("sections")::add);
    h.put("sampleSize", info.sampleSize());
    h.put("maxPointsPerCentroid", info.maxPointsPerCentroid());
    h.put("seed", info.seed());
    h.put("sparkVersion", info.sparkVersion());
    h.put("quarryVersion", info.quarryVersion());
    ObjectNode metrics = h.putObject("metrics");
    info.metrics().forEach(metrics::put);
    return h;
  }

  /**
   * Reads a model of format version 1 or 2. Does not close {@code in}.
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
      Header h = readHeader(data, sourceName);
      Parts parts;
      try {
        parts = version == 1 ? QuantizerFormatV1.readBody(data, h, sourceName) : readSections(data, h, sourceName);
      } catch (IllegalArgumentException e) {
        throw new IOException(sourceName + ": invalid model: " + e.getMessage(), e);
      }
      long expected = checked.getChecksum().getValue();
      long stored = new DataInputStream(in).readLong();
      if (stored != expected) {
        throw new IOException(sourceName + ": CRC32 mismatch (stored " + Long.toHexString(stored) + ", computed "
            + Long.toHexString(expected) + "): the file is corrupt");
      }
      try {
        return new QuantizerModel(h.spec(), h.metric(), parts.transform(), parts.coarse(), parts.pq(), h.info());
      } catch (IllegalArgumentException e) {
        throw new IOException(sourceName + ": invalid model: " + e.getMessage(), e);
      }
    } catch (EOFException e) {
      throw new IOException(sourceName + ": truncated quantizer file", e);
    }
  }

  /** {@link #read} from bytes. */
  public static QuantizerModel fromBytes(byte[] bytes, String sourceName) throws IOException {
    return read(new ByteArrayInputStream(bytes), sourceName);
  }

  /** The header fields a reader needs: the chain's spec, metric, dimension and provenance. */
  record Header(IndexSpec spec, DistanceMetric metric, int d, boolean hasRotation, TrainingInfo info) {}

  /** The components read from a file's body ({@code pq} null for Flat). */
  record Parts(VectorTransform transform, CoarseQuantizer coarse, ProductQuantizer pq) {}

  private static Header readHeader(DataInputStream data, String sourceName) throws IOException {
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
    DistanceMetric metric;
    int d;
    try {
      spec = IndexSpec.parse(required(h, "spec", sourceName).asText());
      metric = DistanceMetric.parse(required(h, "metric", sourceName).asText());
      d = required(h, "d", sourceName).asInt();
      spec.validateFor(d);
    } catch (IllegalArgumentException e) {
      throw new IOException(sourceName + ": invalid header: " + e.getMessage(), e);
    }
    boolean hasRotation = required(h, "hasRotation", sourceName).asBoolean();
    if (hasRotation != spec.hasOpq()) {
      throw new IOException(sourceName + ": header hasRotation=" + hasRotation + " contradicts spec " + spec);
    }
    Map<String, Double> metrics = new TreeMap<>();
    JsonNode mj = h.get("metrics");
    if (mj != null) {
      mj.properties().forEach(e -> metrics.put(e.getKey(), e.getValue().asDouble()));
    }
    TrainingInfo info = new TrainingInfo(
        h.path("sampleSize").asLong(), h.path("seed").asLong(), h.path("sparkVersion").asText("none"),
        h.path("quarryVersion").asText("dev"), metrics, h.path("maxPointsPerCentroid").asInt(0));
    return new Header(spec, metric, d, hasRotation, info);
  }

  private static Parts readSections(DataInputStream data, Header h, String sourceName) throws IOException {
    IndexSpec spec = h.spec();
    int d = h.d();
    VectorTransform transform = VectorTransform.identity(d);
    CoarseQuantizer coarse = CoarseQuantizer.single(d);
    ProductQuantizer pq = null;
    for (String tag : sections(spec)) {
      String found = readTag(data);
      long len = data.readLong();
      while (!found.equals(tag) && !isKnown(found)) { // a newer writer's extra section: skip it
        data.skipNBytes(len);
        found = readTag(data);
        len = data.readLong();
      }
      if (!found.equals(tag)) {
        throw new IOException(sourceName + ": expected section " + tag + " for spec " + spec + ", found " + found);
      }
      switch (tag) {
        case ROTATION -> transform = readRotation(data, d, sourceName);
        case CENTROIDS -> coarse = readCentroids(data, spec.effectiveNlist(), d, sourceName);
        default -> pq = readCodebooks(data, spec.pqM(), spec.nbits(), d / spec.pqM(), sourceName);
      }
    }
    return new Parts(transform, coarse, pq);
  }

  /** Section body {@value #ROTATION}: {@code int32 d, float32[d × d]}. */
  static void writeRotation(DataOutputStream out, VectorTransform t) throws IOException {
    out.writeInt(t.dim());
    FloatArrays.write(out, t.matrix());
  }

  /** Section body {@value #CENTROIDS}: {@code int32 nlist, int32 d, float32[nlist × d]}. */
  static void writeCentroids(DataOutputStream out, CoarseQuantizer c) throws IOException {
    out.writeInt(c.nlist());
    out.writeInt(c.dim());
    FloatArrays.write(out, c.centroids());
  }

  /** Section body {@value #CODEBOOKS}: {@code int32 M, int32 nbits, int32 dsub, float32[M × ksub × dsub]}. */
  static void writeCodebooks(DataOutputStream out, ProductQuantizer pq) throws IOException {
    out.writeInt(pq.m());
    out.writeInt(pq.nbits());
    out.writeInt(pq.dsub());
    FloatArrays.write(out, pq.codebooks());
  }

  static VectorTransform readRotation(DataInputStream in, int expectedD, String source) throws IOException {
    int dd = in.readInt();
    if (dd != expectedD) {
      throw new IOException(source + ": OPQR section has d = " + dd + ", header says " + expectedD);
    }
    return VectorTransform.rotation(FloatArrays.read(in, (long) dd * dd, source, "rotation"), dd);
  }

  static CoarseQuantizer readCentroids(DataInputStream in, int expectedNlist, int expectedD, String source)
      throws IOException {
    int nl = in.readInt();
    int dd = in.readInt();
    if (nl != expectedNlist || dd != expectedD) {
      throw new IOException(source + ": IVFC section is " + nl + " × " + dd + ", header says " + expectedNlist
          + " × " + expectedD);
    }
    return CoarseQuantizer.ivf(FloatArrays.read(in, (long) nl * dd, source, "centroids"), nl, dd);
  }

  static ProductQuantizer readCodebooks(DataInputStream in, int expectedM, int expectedNbits,
      int expectedDsub, String source) throws IOException {
    int mm = in.readInt();
    int nb = in.readInt();
    int ds = in.readInt();
    if (mm != expectedM || nb != expectedNbits || ds != expectedDsub) {
      throw new IOException(source + ": PQCB section has M=" + mm + ", nbits=" + nb + ", dsub=" + ds
          + "; header says M=" + expectedM + ", nbits=" + expectedNbits + ", dsub=" + expectedDsub);
    }
    return new ProductQuantizer(mm, nb, ds, FloatArrays.read(in, (long) mm * (1L << nb) * ds, source, "codebooks"));
  }

  /** The section tags a model of {@code spec} has, in file order. */
  static List<String> sections(IndexSpec spec) {
    List<String> s = new ArrayList<>(3);
    if (spec.hasOpq()) {
      s.add(ROTATION);
    }
    if (spec.hasIvf()) {
      s.add(CENTROIDS);
    }
    if (!spec.isFlat()) {
      s.add(CODEBOOKS);
    }
    return s;
  }

  private static boolean isKnown(String tag) {
    return tag.equals(ROTATION) || tag.equals(CENTROIDS) || tag.equals(CODEBOOKS);
  }

  private static String readTag(DataInputStream in) throws IOException {
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
}
