package io.quarry.serving;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarry.core.config.EmbeddingConfig;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.segment.IndexManifest;
import io.quarry.embed.Embedder;
import java.io.IOException;
import java.util.List;

/**
 * Query encoders for index versions: embeds queries with the model recorded in the version's manifest (the
 * {@code embedding} section of its resolved config), and refuses a version whose model the server cannot reproduce
 * exactly (different model id or ONNX file SHA-256).
 */
public final class ModelEncoders implements IndexHolder.EncoderFactory {
  private final String modelPathOverride;
  private final int intraOpThreads;

  /**
   * @param modelPathOverride for {@code custom} models, the local directory holding {@code model.onnx} and
   *     {@code tokenizer.json} on this machine (null: use the manifest's path)
   * @param intraOpThreads ONNX Runtime threads for query embedding
   */
  public ModelEncoders(String modelPathOverride, int intraOpThreads) {
    this.modelPathOverride = modelPathOverride;
    this.intraOpThreads = intraOpThreads;
  }

  @Override
  public HybridSearcher.QueryEncoder forManifest(IndexManifest m) throws IOException {
    JsonNode e = m.config() == null ? null : m.config().get("embedding");
    if (e == null || !e.hasNonNull("model")) {
      throw new IOException("manifest of " + m.version() + " has no embedding config");
    }
    String model = e.get("model").asText();
    String path = modelPathOverride != null ? modelPathOverride : e.path("modelPath").asText("");
    EmbeddingConfig cfg = new EmbeddingConfig(model, path, 32, e.path("maxSeqLength").asInt(512), intraOpThreads);
    Embedder emb;
    try {
      emb = Embedder.open(cfg);
    } catch (RuntimeException ex) {
      throw new IOException("cannot load embedding model '" + model + "': " + ex.getMessage(), ex);
    }
    String why = m.model().mismatch(m.version(), new IndexManifest.Model(emb.modelId(), emb.modelSha256(),
        emb.dim()));
    if (why != null) {
      throw new IOException(why);
    }
    return q -> emb.embedQueries(List.of(q))[0];
  }

  /** Every extra dense field's model, by id, with its own query prefix; refuses a field whose model differs. */
  @Override
  public java.util.Map<String, HybridSearcher.QueryEncoder> forDenseFields(IndexManifest m) throws IOException {
    JsonNode e = m.config() == null ? null : m.config().get("embedding");
    int maxSeq = e == null ? 512 : e.path("maxSeqLength").asInt(512);
    return io.quarry.embed.FieldEncoders.open(m, maxSeq, intraOpThreads, false).encoders();
  }
}
