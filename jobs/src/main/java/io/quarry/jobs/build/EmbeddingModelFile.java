package io.quarry.jobs.build;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.platform.Platform;
import io.quarry.core.segment.IndexManifest;
import io.quarry.jobs.JobContext;
import java.io.IOException;
import java.util.List;

/**
 * The embed stage's model descriptor as the build reads it ({@code _model.json}, or {@code model.json} of older
 * outputs): the model id, SHA-256, dimension and platforms that go into the index manifest.
 */
final class EmbeddingModelFile {
  private static final ObjectMapper JSON = new ObjectMapper();

  private EmbeddingModelFile() {}

  /** Reads the embeddings' model descriptor: {@code _model.json} (or {@code model.json} of older outputs). */
  static IndexManifest.Model read(JobContext ctx, String embDir, int quantDim) throws IOException {
    String path = PublishedIndex.child(embDir, "_model.json");
    if (!ctx.exists(path) && ctx.exists(PublishedIndex.child(embDir, "model.json"))) {
      path = PublishedIndex.child(embDir, "model.json");
    }
    if (!ctx.exists(path)) {
      throw new IOException(path + ": embedding model descriptor not found (run the embed stage first)");
    }
    JsonNode m;
    try {
      m = JSON.readTree(ctx.readString(path));
    } catch (IOException e) {
      throw new IOException(path + ": invalid JSON: " + e.getMessage(), e);
    }
    String id = text(m, "modelId", "model_id", "model");
    String sha = text(m, "sha256", "modelSha256", "model_sha256");
    int dim = m.path("dim").asInt(quantDim);
    if (id == null || sha == null) {
      throw new IOException(path + ": fields modelId and sha256 are required");
    }
    if (dim != quantDim) {
      throw new IOException(path + ": model dim " + dim + " but the quantizer was trained for dim " + quantDim);
    }
    List<Platform> platforms = null;
    if (m.path("platforms").isArray()) { // absent from older embeddings
      platforms = Platform.distinct(JSON.convertValue(m.get("platforms"), new TypeReference<List<Platform>>() {}));
    }
    return new IndexManifest.Model(id, sha, dim, platforms);
  }

  private static String text(JsonNode n, String... names) {
    for (String name : names) {
      if (n.hasNonNull(name) && n.get(name).isTextual()) {
        return n.get(name).asText();
      }
    }
    return null;
  }
}
