package io.quarry.core.chunk;

import io.quarry.core.config.ChunkingConfig;
import java.io.ByteArrayOutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The reuse key of a chunk embedding: hex SHA-256 over everything that decides the vector the model returns for a
 * chunk, so two chunks (of the same or of different runs) with equal keys get the same vector up to the int8
 * models' batch effects, and a stored vector may be reused for any chunk with its key.
 *
 * <p>Hashed, in this order, each field as a 4-byte big-endian length and its UTF-8 bytes (no field can run into the
 * next): the format tag {@value #FORMAT}, the model's SHA-256 (ONNX bytes), the chunking parameters
 * ({@code method}, {@code maxTokens}, {@code overlapTokens}, {@code prependTitle}), {@code embedding.maxSeqLength},
 * the model's passage prefix, and the exact text given to the model ({@link Chunk#embeddingText}: title, blank
 * line and text when {@code prependTitle}). The batch size is not part of the key: it changes the int8 models'
 * vectors only slightly, and reusing a vector is exactly what keeps it unchanged.
 */
public final class ReuseKey implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Version of the key's definition; a change of definition must change it. */
  public static final String FORMAT = "quarry-embedding-reuse-key/1";

  private final byte[] header;

  private ReuseKey(byte[] header) {
    this.header = header;
  }

  /**
   * The keyer for one model and chunking config.
   *
   * @param modelSha256 hex SHA-256 of the model's ONNX bytes
   * @param chunking the chunking config the chunks were made with
   * @param maxSeqLength {@code embedding.maxSeqLength}
   * @param passagePrefix the model's passage prefix ({@code ""} if none)
   */
  public static ReuseKey of(String modelSha256, ChunkingConfig chunking, int maxSeqLength, String passagePrefix) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (String f : new String[] {FORMAT, modelSha256, chunking.method(), Integer.toString(chunking.maxTokens()),
        Integer.toString(chunking.overlapTokens()), Boolean.toString(chunking.prependTitle()),
        Integer.toString(maxSeqLength), passagePrefix == null ? "" : passagePrefix}) {
      writeField(b, f);
    }
    return new ReuseKey(b.toByteArray());
  }

  /** The key of a chunk whose text given to the model (before the passage prefix) is {@code embeddingText}. */
  public String key(String embeddingText) {
    MessageDigest md = sha256();
    md.update(header);
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    writeField(b, embeddingText);
    md.update(b.toByteArray());
    return HexFormat.of().formatHex(md.digest());
  }

  /** The key of a chunk row: {@code key(Chunk.embeddingText(title, text, prependTitle))}. */
  public String key(String title, String text, boolean prependTitle) {
    return key(Chunk.embeddingText(title, text, prependTitle));
  }

  private static void writeField(ByteArrayOutputStream b, String s) {
    byte[] u = s.getBytes(StandardCharsets.UTF_8);
    int n = u.length;
    b.write(n >>> 24);
    b.write(n >>> 16);
    b.write(n >>> 8);
    b.write(n);
    b.write(u, 0, n);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ReuseKey k && Arrays.equals(header, k.header);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(header);
  }
}
