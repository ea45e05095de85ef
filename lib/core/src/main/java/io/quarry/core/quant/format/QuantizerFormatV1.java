package io.quarry.core.quant.format;

import io.quarry.core.quant.IndexSpec;
import java.io.DataInputStream;
import java.io.IOException;

/**
 * Reader of the body of format version 1 (written before issue 12), kept apart from the current format so that
 * indexes published before the change keep serving; {@code src/test/resources/golden/quantizer-v1} pins it. Nothing
 * writes version 1 any more.
 *
 * <p>Same magic, version, header and CRC32 footer as {@link QuantizerFormat}; the body has no section framing, all
 * big-endian float32: {@code rotation [d × d]} when {@code hasRotation}, {@code centroids [nlist × d]} always (one
 * zero row without IVF), {@code codebooks [M × ksub × dsub]} unless Flat.
 */
final class QuantizerFormatV1 {
  private QuantizerFormatV1() {}

  /**
   * Reads the body after the header.
   *
   * @throws IOException on an impossible array size
   * @throws java.io.EOFException when the input is truncated
   * @throws IllegalArgumentException when an array is not finite or does not fit the spec
   */
  static QuantizerFormat.Parts readBody(DataInputStream data, QuantizerFormat.Header h, String sourceName)
      throws IOException {
    IndexSpec spec = h.spec();
    int d = h.d();
    float[] rotation = h.hasRotation() ? FloatArrays.read(data, (long) d * d, sourceName, "rotation") : null;
    float[] centroids = FloatArrays.read(data, (long) spec.effectiveNlist() * d, sourceName, "centroids");
    float[] codebooks = spec.isFlat() ? null
        : FloatArrays.read(data, (long) spec.pqM() * spec.ksub() * (d / spec.pqM()), sourceName, "codebooks");
    return new QuantizerFormat.Parts(spec.transform(d, rotation), spec.coarse(d, centroids),
        spec.productQuantizer(d, codebooks));
  }
}
