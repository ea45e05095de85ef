package io.quarry.embed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.config.EmbeddingConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The files of one embedding model, resolved from {@link EmbeddingConfig}: a bundled model's resources on the
 * classpath, or for {@code model: custom} the local directory {@code modelPath} holding {@code model.onnx},
 * {@code tokenizer.json} and optionally {@code quarry-model.json} ({@code {"pooling": "mean"|"cls",
 * "queryPrefix": "...", "passagePrefix": "..."}}; default mean pooling, no prefixes). Hadoop paths are copied to
 * local disk by the Spark job before this is called (lib/ has no Hadoop).
 *
 * @param spec model id, pooling, prefixes
 * @param onnx the ONNX model bytes
 * @param tokenizerJson the tokenizer.json bytes
 * @param sha256 lower-case hex SHA-256 of {@code onnx}
 */
public record ModelFiles(ModelSpec spec, byte[] onnx, byte[] tokenizerJson, String sha256) {

  /** Value of {@code embedding.model} for a user-supplied model; its id in {@code _model.json} is {@code custom:<dir name>}. */
  public static final String CUSTOM = "custom";

  /**
   * Loads the model's files.
   *
   * @throws EmbedderException naming the model id or path when a file is missing or unreadable
   */
  public static ModelFiles load(EmbeddingConfig cfg) {
    return CUSTOM.equals(cfg.model()) ? loadCustom(cfg.modelPath()) : loadBundled(cfg.model());
  }

  /** Only the tokenizer.json bytes (for chunking without loading the ONNX model). */
  public static byte[] loadTokenizerJson(EmbeddingConfig cfg) {
    if (CUSTOM.equals(cfg.model())) {
      return readLocal(localDir(cfg.modelPath()).resolve("tokenizer.json"));
    }
    ModelSpec spec = bundledSpec(cfg.model());
    return readResource(spec, spec.tokenizerResource());
  }

  /** Model spec (pooling, prefixes) without loading anything heavy. */
  public static ModelSpec specOf(EmbeddingConfig cfg) {
    return CUSTOM.equals(cfg.model()) ? customSpec(localDir(cfg.modelPath())) : bundledSpec(cfg.model());
  }

  static ModelFiles loadBundled(String id) {
    ModelSpec spec = bundledSpec(id);
    byte[] onnx = readResource(spec, spec.onnxResource());
    byte[] tok = readResource(spec, spec.tokenizerResource());
    return new ModelFiles(spec, onnx, tok, sha256(onnx));
  }

  static ModelFiles loadCustom(String modelPath) {
    Path dir = localDir(modelPath);
    byte[] onnx = readLocal(dir.resolve("model.onnx"));
    byte[] tok = readLocal(dir.resolve("tokenizer.json"));
    return new ModelFiles(customSpec(dir), onnx, tok, sha256(onnx));
  }

  private static ModelSpec bundledSpec(String id) {
    return ModelSpec.bundled(id).orElseThrow(() -> new EmbedderException("embedding.model: unknown model '" + id
        + "'; bundled models: " + ModelSpec.BUNDLED.stream().map(ModelSpec::id).toList()
        + ", or 'custom' with embedding.modelPath"));
  }

  private static ModelSpec customSpec(Path dir) {
    Path meta = dir.resolve("quarry-model.json");
    Pooling pooling = Pooling.MEAN;
    String qp = "";
    String pp = "";
    if (Files.exists(meta)) {
      try {
        JsonNode n = new ObjectMapper().readTree(meta.toFile());
        pooling = Pooling.parse(n.path("pooling").asText("mean"));
        qp = n.path("queryPrefix").asText("");
        pp = n.path("passagePrefix").asText("");
      } catch (IOException | IllegalArgumentException e) {
        throw new EmbedderException(meta + ": unreadable model metadata: " + e.getMessage(), e);
      }
    }
    return new ModelSpec(CUSTOM + ":" + dir.getFileName(), null, null, pooling, qp, pp);
  }

  private static Path localDir(String modelPath) {
    String p = modelPath.startsWith("file:") ? java.net.URI.create(modelPath).getPath() : modelPath;
    Path dir = Path.of(p);
    if (!Files.isDirectory(dir)) {
      throw new EmbedderException("embedding.modelPath: '" + modelPath
          + "' is not a local directory holding model.onnx and tokenizer.json");
    }
    return dir;
  }

  private static byte[] readLocal(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new EmbedderException("embedding model file unreadable: " + file + " (" + e + ")", e);
    }
  }

  private static byte[] readResource(ModelSpec spec, String name) {
    ClassLoader[] loaders = {Thread.currentThread().getContextClassLoader(), ModelFiles.class.getClassLoader()};
    for (ClassLoader cl : loaders) {
      if (cl == null) {
        continue;
      }
      try (InputStream in = cl.getResourceAsStream(name)) {
        if (in != null) {
          return in.readAllBytes();
        }
      } catch (IOException e) {
        throw new EmbedderException("model '" + spec.id() + "': cannot read classpath resource " + name, e);
      }
    }
    throw new EmbedderException("model '" + spec.id() + "': classpath resource " + name + " not found; put the jar of "
        + spec.artifact() + " on the classpath (spark-submit --jars <that jar>, see README) or use"
        + " embedding.model=custom with embedding.modelPath");
  }

  /** Lower-case hex SHA-256 of {@code bytes}. */
  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
