package io.quarry.core.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Format compatibility of {@code quantizer.bin}: {@code src/test/resources/golden/quantizer-v1/} holds version-1
 * files written by the version-1 writer (the single-section layout used before issue 12). Today's reader must read
 * them value for value, so published indexes built before the format-2 change keep serving. Hand-built models (no
 * training), so the expected values are written out here. {@code golden/quantizer-v2/} holds the same models in
 * format 2 (one section per component); today's writer must reproduce those bytes exactly (a writer change that
 * alters them must bump {@link QuantizerModel#FORMAT_VERSION} and keep the old reader). Regenerate format 2
 * deliberately with {@code -Dquarry.golden.regenerate=true}.
 */
class GoldenQuantizerTest {
  static final Path GOLDEN_V1 = Path.of("src/test/resources/golden/quantizer-v1");
  static final Path GOLDEN_V2 = Path.of("src/test/resources/golden/quantizer-v2");
  static final int D = 4;

  /** A 90° rotation in the (0,1) plane and a swap of dims 2, 3: exact in float32. */
  static float[] rotation() {
    return new float[] {0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0};
  }

  static float[] centroids() {
    return new float[] {0, 0, 0, 0, 1, 2, 3, 4, -1, 0.5f, 0.25f, -2};
  }

  /** M = 2, ksub = 4 (nbits 2), dsub = 2. */
  static float[] codebooks() {
    float[] cb = new float[2 * 4 * 2];
    for (int i = 0; i < cb.length; i++) {
      cb[i] = (i % 5) * 0.5f - 1;
    }
    return cb;
  }

  static QuantizerModel opqModel() {
    return new QuantizerModel(IndexSpec.parse("OPQ2,IVF3,PQ2x2"), Metric.L2, D, rotation(), centroids(),
        codebooks(), new TrainingInfo(7, 42, "4.1.0", "golden", Map.of("pq.mse", 0.125, "ivf.mse", 0.5)));
  }

  static QuantizerModel flatModel() {
    return new QuantizerModel(IndexSpec.parse("IVF3,Flat"), Metric.IP, D, null, centroids(), null,
        new TrainingInfo(7, 42, "none", "golden", Map.of()));
  }

  @Test
  void todaysReaderReadsVersion1Files() throws Exception {
    if (Boolean.getBoolean("quarry.golden.regenerate.v1")) {
      Files.createDirectories(GOLDEN_V1);
      Files.write(GOLDEN_V1.resolve("opq-ivf-pq.bin"), opqModel().toBytes());
      Files.write(GOLDEN_V1.resolve("ivf-flat.bin"), flatModel().toBytes());
    }
    QuantizerModel q = QuantizerModel.fromBytes(Files.readAllBytes(GOLDEN_V1.resolve("opq-ivf-pq.bin")), "v1");
    assertThat(q.spec()).isEqualTo(IndexSpec.parse("OPQ2,IVF3,PQ2x2"));
    assertThat(q.metric()).isEqualTo(Metric.L2);
    assertThat(q.rotation()).containsExactly(rotation());
    assertThat(q.centroids()).containsExactly(centroids());
    assertThat(q.codebooks()).containsExactly(codebooks());
    assertThat(q.info()).isEqualTo(opqModel().info());
    QuantizerModel f = QuantizerModel.fromBytes(Files.readAllBytes(GOLDEN_V1.resolve("ivf-flat.bin")), "v1");
    assertThat(f.spec()).isEqualTo(IndexSpec.parse("IVF3,Flat"));
    assertThat(f.hasRotation()).isFalse();
    assertThat(f.centroids()).containsExactly(centroids());
    assertThat(f.codebooks()).isNull();
  }

  @Test
  void todaysWriterReproducesTheVersion2GoldenBytesAndReadsThemBack() throws Exception {
    if (Boolean.getBoolean("quarry.golden.regenerate")) {
      Files.createDirectories(GOLDEN_V2);
      Files.write(GOLDEN_V2.resolve("opq-ivf-pq.bin"), opqModel().toBytes());
      Files.write(GOLDEN_V2.resolve("ivf-flat.bin"), flatModel().toBytes());
    }
    for (String name : new String[] {"opq-ivf-pq.bin", "ivf-flat.bin"}) {
      byte[] golden = Files.readAllBytes(GOLDEN_V2.resolve(name));
      QuantizerModel model = name.startsWith("opq") ? opqModel() : flatModel();
      assertThat(model.toBytes()).as(name).isEqualTo(golden);
      // a version-1 file read and written again is the version-2 file of the same model
      QuantizerModel v1 = QuantizerModel.fromBytes(Files.readAllBytes(GOLDEN_V1.resolve(name)), name);
      assertThat(v1.toBytes()).as(name).isEqualTo(golden);
      QuantizerModel back = QuantizerModel.fromBytes(golden, name);
      assertThat(back.info()).isEqualTo(model.info());
      assertThat(back.headerJson().get("formatVersion").asInt()).isEqualTo(2);
    }
    QuantizerModel q = QuantizerModel.fromBytes(Files.readAllBytes(GOLDEN_V2.resolve("opq-ivf-pq.bin")), "v2");
    assertThat(q.headerJson().get("sections").toString()).isEqualTo("[\"OPQR\",\"IVFC\",\"PQCB\"]");
    // the file's components encode: x = Rᵀ c_2 lands in list 2 and reconstructs R x up to the PQ error
    QuantizerModel.Encoded e = q.encodeVector(transpose(rotation(), D, q.centroid(2)));
    assertThat(e.list()).isEqualTo(2);
    assertThat(VectorMath.l2sq(q.centroid(2), q.decode(2, e.code(), 0))).isEqualTo(e.squaredError());
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
