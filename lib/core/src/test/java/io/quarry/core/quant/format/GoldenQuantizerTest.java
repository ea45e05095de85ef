package io.quarry.core.quant.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.TrainingInfo;
import io.quarry.core.quant.kernel.VectorMath;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Format compatibility of {@code quantizer.bin}: {@code src/test/resources/golden/quantizer-v1/} holds version-1
 * files written by the version-1 writer (the single-section layout used before issue 12). Today's reader must read
 * them value for value, so published indexes built before the format-2 change keep serving. Hand-built models (no
 * training), so the expected values are written out here. {@code golden/quantizer-v2/} holds the same models in
 * format 2 (one section per component); today's writer must reproduce those bytes exactly (a writer change that
 * alters them must bump {@link QuantizerFormat#FORMAT_VERSION} and keep the old reader, as {@link QuantizerFormatV1}
 * is kept). Regenerate the current format's files deliberately with {@code -Dquarry.golden.regenerate=true}: it
 * writes only into {@code quantizer-v<FORMAT_VERSION>} and refuses to overwrite a file of another format version, so
 * an old format's golden files cannot be replaced by today's bytes (there is no writer of an old format).
 */
public class GoldenQuantizerTest {
  static final Path GOLDEN_V1 = Path.of("src/test/resources/golden/quantizer-v1");
  static final Path GOLDEN_V2 = Path.of("src/test/resources/golden/quantizer-v2");
  static final int D = 4;

  /** A 90° rotation in the (0,1) plane and a swap of dims 2, 3: exact in float32. */
  public static float[] rotation() {
    return new float[] {0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0};
  }

  public static float[] centroids() {
    return new float[] {0, 0, 0, 0, 1, 2, 3, 4, -1, 0.5f, 0.25f, -2};
  }

  /** M = 2, ksub = 4 (nbits 2), dsub = 2. */
  public static float[] codebooks() {
    float[] cb = new float[2 * 4 * 2];
    for (int i = 0; i < cb.length; i++) {
      cb[i] = (i % 5) * 0.5f - 1;
    }
    return cb;
  }

  static QuantizerModel opqModel() {
    return new QuantizerModel(IndexSpec.parse("OPQ2,IVF3,PQ2x2"), DistanceMetric.L2, D, rotation(), centroids(),
        codebooks(), new TrainingInfo(7, 42, "4.1.0", "golden", Map.of("pq.mse", 0.125, "ivf.mse", 0.5)));
  }

  static QuantizerModel flatModel() {
    return new QuantizerModel(IndexSpec.parse("IVF3,Flat"), DistanceMetric.IP, D, null, centroids(), null,
        new TrainingInfo(7, 42, "none", "golden", Map.of()));
  }

  @Test
  void todaysReaderReadsVersion1Files() throws Exception {
    QuantizerModel q = QuantizerFormat.fromBytes(Files.readAllBytes(GOLDEN_V1.resolve("opq-ivf-pq.bin")), "v1");
    assertThat(q.spec()).isEqualTo(IndexSpec.parse("OPQ2,IVF3,PQ2x2"));
    assertThat(q.metric()).isEqualTo(DistanceMetric.L2);
    assertThat(q.rotation()).containsExactly(rotation());
    assertThat(q.centroids()).containsExactly(centroids());
    assertThat(q.codebooks()).containsExactly(codebooks());
    assertThat(q.info()).isEqualTo(opqModel().info());
    QuantizerModel f = QuantizerFormat.fromBytes(Files.readAllBytes(GOLDEN_V1.resolve("ivf-flat.bin")), "v1");
    assertThat(f.spec()).isEqualTo(IndexSpec.parse("IVF3,Flat"));
    assertThat(f.hasRotation()).isFalse();
    assertThat(f.centroids()).containsExactly(centroids());
    assertThat(f.codebooks()).isNull();
  }

  @Test
  void todaysWriterReproducesTheVersion2GoldenBytesAndReadsThemBack() throws Exception {
    if (Boolean.getBoolean("quarry.golden.regenerate")) {
      regenerate(GOLDEN_V2);
    }
    for (String name : new String[] {"opq-ivf-pq.bin", "ivf-flat.bin"}) {
      byte[] golden = Files.readAllBytes(GOLDEN_V2.resolve(name));
      QuantizerModel model = name.startsWith("opq") ? opqModel() : flatModel();
      assertThat(QuantizerFormat.toBytes(model)).as(name).isEqualTo(golden);
      // a version-1 file read and written again is the version-2 file of the same model
      QuantizerModel v1 = QuantizerFormat.fromBytes(Files.readAllBytes(GOLDEN_V1.resolve(name)), name);
      assertThat(QuantizerFormat.toBytes(v1)).as(name).isEqualTo(golden);
      QuantizerModel back = QuantizerFormat.fromBytes(golden, name);
      assertThat(back.info()).isEqualTo(model.info());
      assertThat(QuantizerFormat.headerJson(back).get("formatVersion").asInt()).isEqualTo(2);
    }
    QuantizerModel q = QuantizerFormat.fromBytes(Files.readAllBytes(GOLDEN_V2.resolve("opq-ivf-pq.bin")), "v2");
    assertThat(QuantizerFormat.headerJson(q).get("sections").toString()).isEqualTo("[\"OPQR\",\"IVFC\",\"PQCB\"]");
    // the file's components encode: x = Rᵀ c_2 lands in list 2 and reconstructs R x up to the PQ error
    QuantizerModel.Encoded e = q.encodeVector(transpose(rotation(), D, q.centroid(2)));
    assertThat(e.list()).isEqualTo(2);
    assertThat(VectorMath.l2sq(q.centroid(2), q.decode(2, e.code(), 0))).isEqualTo(e.squaredError());
  }

  @Test
  void regenerationRefusesADirectoryOfAnotherFormatVersion(@TempDir Path tmp) throws Exception {
    Path old = tmp.resolve("quantizer-v1");
    Files.createDirectories(old);
    Files.copy(GOLDEN_V1.resolve("opq-ivf-pq.bin"), old.resolve("opq-ivf-pq.bin"));
    byte[] before = Files.readAllBytes(old.resolve("opq-ivf-pq.bin"));
    assertThatThrownBy(() -> regenerate(old)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("format version 1");
    assertThat(Files.readAllBytes(old.resolve("opq-ivf-pq.bin"))).isEqualTo(before);
    assertThat(old.resolve("ivf-flat.bin")).doesNotExist();
    Path current = tmp.resolve("quantizer-v" + QuantizerFormat.FORMAT_VERSION);
    regenerate(current);
    assertThat(Files.readAllBytes(current.resolve("opq-ivf-pq.bin")))
        .isEqualTo(Files.readAllBytes(GOLDEN_V2.resolve("opq-ivf-pq.bin")));
  }

  /**
   * Writes today's bytes of the golden models into {@code dir}, which must be the current format's directory; every
   * file is checked before any is written.
   *
   * @throws IllegalStateException when {@code dir} is not named for {@link QuantizerFormat#FORMAT_VERSION} or holds
   *     a file of another format version
   */
  static void regenerate(Path dir) throws IOException {
    String[] names = {"opq-ivf-pq.bin", "ivf-flat.bin"};
    for (String name : names) {
      Path f = dir.resolve(name);
      if (Files.exists(f)) {
        int version = ByteBuffer.wrap(Files.readAllBytes(f), QuantizerFormat.MAGIC.length(), 4).getInt();
        if (version != QuantizerFormat.FORMAT_VERSION) {
          throw new IllegalStateException(f + " is a golden file of format version " + version
              + "; only format " + QuantizerFormat.FORMAT_VERSION + " can be regenerated");
        }
      }
    }
    if (!dir.getFileName().toString().equals("quantizer-v" + QuantizerFormat.FORMAT_VERSION)) {
      throw new IllegalStateException(dir + " is not the golden directory of format version "
          + QuantizerFormat.FORMAT_VERSION);
    }
    Files.createDirectories(dir);
    Files.write(dir.resolve(names[0]), QuantizerFormat.toBytes(opqModel()));
    Files.write(dir.resolve(names[1]), QuantizerFormat.toBytes(flatModel()));
  }

  /** {@code Rᵀ y} (the inverse rotation). */
  static float[] transpose(float[] r, int d, float[] y) {
    float[] x = new float[d];
    for (int i = 0; i < d; i++) {
      for (int k = 0; k < d; k++) {
        x[i] += r[k * d + i] * y[k];
      }
    }
    return x;
  }
}
