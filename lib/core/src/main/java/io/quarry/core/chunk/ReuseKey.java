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
 * Reuse keys of the refresh path: of a chunk embedding ({@link #of}, {@code embedding.reuseFrom}) and of a
 * document's chunks ({@link #forDocuments}, {@code chunking.reuseFrom}).
 *
 * <p><b>Chunk embedding</b>: hex SHA-256 over everything that decides the vector the model returns for a
 * chunk, so two chunks (of the same or of different runs) with equal keys get the same vector up to the int8
 * models' batch effects, and a stored vector may be reused for any chunk with its key.
 *
 * <p>Hashed, in this order, each field as a 4-byte big-endian length and its UTF-8 bytes (no field can run into the
 * next): the format tag {@value #FORMAT}, the model's SHA-256 (ONNX bytes), the chunking parameters
 * ({@code method}, {@code maxTokens}, {@code overlapTokens}, {@code prependTitle}), {@code embedding.maxSeqLength},
 * the model's passage prefix, and the exact text given to the model ({@link Chunk#embeddingText}: title, blank
 * line and text when {@code prependTitle}). The batch size is not part of the key: it changes the int8 models'
 * vectors only slightly, and reusing a vector is exactly what keeps it unchanged.
 *
 * <p><b>Document chunks</b> ({@link #forDocuments}, {@link #documentKey}): hex SHA-256 over the format tag
 * {@value #DOCUMENT_FORMAT}, the tokenizer's SHA-256 ({@code tokenizer.json} bytes), the chunking parameters
 * ({@code method}, {@code maxTokens}, {@code overlapTokens}) and the document's id, title and text: everything the
 * chunker's output depends on, so a document with an equal key has exactly the chunk rows stored for it. A change of
 * the chunker's algorithm must change {@value #DOCUMENT_FORMAT}.
 */
public final class ReuseKey implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Version of the key's definition; a change of definition must change it. */
  public static final String FORMAT = "quarry-embedding-reuse-key/1";

  /** Version of the document key's definition (and of the chunker's output); a change of either must change it. */
  public static final String DOCUMENT_FORMAT = "quarry-chunk-reuse-key/1";

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
    return new ReuseKey(fields(FORMAT, modelSha256, chunking.method(), Integer.toString(chunking.maxTokens()),
        Integer.toString(chunking.overlapTokens()), Boolean.toString(chunking.prependTitle()),
        Integer.toString(maxSeqLength), passagePrefix == null ? "" : passagePrefix));
  }

  /**
   * The keyer of documents for one tokenizer and chunking config ({@code chunking.reuseFrom}).
   *
   * @param tokenizerSha256 hex SHA-256 of the tokenizer's {@code tokenizer.json} bytes
   * @param chunking the chunking config ({@code method}, {@code maxTokens}, {@code overlapTokens})
   */
  public static ReuseKey forDocuments(String tokenizerSha256, ChunkingConfig chunking) {
    return new ReuseKey(fields(DOCUMENT_FORMAT, tokenizerSha256, chunking.method(),
        Integer.toString(chunking.maxTokens()), Integer.toString(chunking.overlapTokens())));
  }

  /** The key of a chunk whose text given to the model (before the passage prefix) is {@code embeddingText}. */
  public String key(String embeddingText) {
    return digest(embeddingText);
  }

  /**
   * The key of a document for a keyer made by {@link #forDocuments}.
   *
   * @param title the title, or null (distinct from {@code ""})
   */
  public String documentKey(String docId, String title, String text) {
    return digest(docId, title, text);
  }

  private String digest(String... fields) {
    MessageDigest md = sha256();
    md.update(header);
    md.update(fields(fields));
    return HexFormat.of().formatHex(md.digest());
  }

  private static byte[] fields(String... fields) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (String f : fields) {
      writeField(b, f);
    }
    return b.toByteArray();
  }

  /** The key of a chunk row: {@code key(Chunk.embeddingText(title, text, prependTitle))}. */
  public String key(String title, String text, boolean prependTitle) {
    return key(Chunk.embeddingText(title, text, prependTitle));
  }

  /** A field: 4-byte big-endian length and UTF-8 bytes; null as the length −1 and no bytes. */
  private static void writeField(ByteArrayOutputStream b, String s) {
    if (s == null) {
      b.write(0xFF);
      b.write(0xFF);
      b.write(0xFF);
      b.write(0xFF);
      return;
    }
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
