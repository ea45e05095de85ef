package io.quarry.embed;

import io.quarry.core.config.EmbeddingConfig;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.segment.IndexManifest;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Query encoders for the extra dense fields of an index version ({@link IndexManifest.DenseField}, {@code
 * embedding.extraModels}, issue 26): each field's model opened by id (with that model's own query prefix), checked
 * against the model the field's vectors were computed with ({@link IndexManifest.Model#mismatch}, the same check as
 * for the primary model), for {@link HybridSearcher}'s field encoders. Used by the evaluation, the tuning and the
 * serving jar alike.
 */
public final class FieldEncoders implements AutoCloseable {
  private final Map<String, HybridSearcher.QueryEncoder> encoders;
  private final List<Embedder> embedders;

  private FieldEncoders(Map<String, HybridSearcher.QueryEncoder> encoders, List<Embedder> embedders) {
    this.encoders = encoders;
    this.embedders = embedders;
  }

  /**
   * Opens an encoder for every dense field of {@code m}.
   *
   * @param maxSeqLength query truncation, in tokens
   * @param intraOpThreads ONNX Runtime threads per model
   * @param memoize remember each query's embedding (labeled-query jobs search the same queries many times)
   * @throws IOException if a field's model cannot be loaded or is not the one its vectors were computed with
   */
  public static FieldEncoders open(IndexManifest m, int maxSeqLength, int intraOpThreads, boolean memoize)
      throws IOException {
    Map<String, HybridSearcher.QueryEncoder> enc = new LinkedHashMap<>();
    List<Embedder> opened = new java.util.ArrayList<>();
    try {
      for (IndexManifest.DenseField f : m.denseFields()) {
        Embedder e;
        try {
          e = Embedder.open(new EmbeddingConfig(f.model().modelId(), "", 32, maxSeqLength, intraOpThreads));
        } catch (RuntimeException ex) {
          throw new IOException("cannot load the model of dense field " + f.name() + ": " + ex.getMessage(), ex);
        }
        opened.add(e);
        String why = f.model().mismatch(m.version() + " (dense field " + f.name() + ")",
            new IndexManifest.Model(e.modelId(), e.modelSha256(), e.dim()));
        if (why != null) {
          throw new IOException(why);
        }
        HybridSearcher.QueryEncoder plain = q -> e.embedQueries(List.of(q))[0];
        enc.put(f.name(), memoize ? memo(plain) : plain);
      }
    } catch (IOException | RuntimeException ex) {
      opened.forEach(Embedder::close);
      throw ex;
    }
    return new FieldEncoders(java.util.Collections.unmodifiableMap(enc), List.copyOf(opened));
  }

  private static HybridSearcher.QueryEncoder memo(HybridSearcher.QueryEncoder e) {
    Map<String, float[]> cache = new ConcurrentHashMap<>();
    return q -> {
      float[] v = cache.get(q);
      if (v == null) {
        v = e.encode(q);
        cache.put(q, v);
      }
      return v;
    };
  }

  /** Field name to query encoder, in manifest order (empty for a version without dense fields). */
  public Map<String, HybridSearcher.QueryEncoder> encoders() {
    return encoders;
  }

  @Override
  public void close() {
    embedders.forEach(Embedder::close);
  }
}
