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
 * The files of one embedding model, resolved from {@link EmbeddingConfig}: a bundled model's files from its jar (the
 * classpath resources if the jar is on the classpath, as the default model's is; else the local jar {@code modelPath}
 * names, which is how Spark jobs hand a shipped jar to executors; else the jar {@link ModelResolver} finds or
 * downloads), or for {@code model: custom} the local directory {@code modelPath} holding {@code model.onnx},
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
   * @throws EmbedderException naming the model id or path when a file is missing or unreadable, or naming the
   *     artifact and the pre-fetch command when a bundled model's jar is nowhere on this machine and cannot be
   *     downloaded ({@link ModelResolver#resolve})
   */
  public static ModelFiles load(EmbeddingConfig cfg) {
    return CUSTOM.equals(cfg.model()) ? loadCustom(cfg.modelPath()) : loadBundled(cfg.model(), cfg.modelPath());
  }

  /** Only the tokenizer.json bytes (for chunking without loading the ONNX model). */
  public static byte[] loadTokenizerJson(EmbeddingConfig cfg) {
    if (CUSTOM.equals(cfg.model())) {
      return readLocal(localDir(cfg.modelPath()).resolve("tokenizer.json"));
    }
    ModelSpec spec = bundledSpec(cfg.model());
    return bundledFile(spec, cfg.modelPath(), spec.tokenizerResource());
  }

  /** Whether the bundled model's files are classpath resources here (its jar is on the classpath). */
  public static boolean onClasspath(ModelSpec spec) {
    for (ClassLoader cl : loaders()) {
      if (cl.getResource(spec.onnxResource()) != null && cl.getResource(spec.tokenizerResource()) != null) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code modelPath} names a bundled model's jar (a local {@code .jar} file, e.g. one shipped by a job). */
  private static boolean isJarPath(String modelPath) {
    return modelPath != null && modelPath.endsWith(".jar");
  }

  /** Model spec (pooling, prefixes) without loading anything heavy. */
  public static ModelSpec specOf(EmbeddingConfig cfg) {
    return CUSTOM.equals(cfg.model()) ? customSpec(localDir(cfg.modelPath())) : bundledSpec(cfg.model());
  }

  static ModelFiles loadBundled(String id, String modelPath) {
    ModelSpec spec = bundledSpec(id);
    byte[] onnx = bundledFile(spec, modelPath, spec.onnxResource());
    byte[] tok = bundledFile(spec, modelPath, spec.tokenizerResource());
    return new ModelFiles(spec, onnx, tok, sha256(onnx));
  }

  /** One file of a bundled model: from the jar {@code modelPath} names, else the classpath, else the resolver's jar. */
  private static byte[] bundledFile(ModelSpec spec, String modelPath, String name) {
    if (isJarPath(modelPath)) {
      return readJarEntry(spec, Path.of(modelPath), name);
    }
    if (onClasspath(spec)) {
      return readResource(spec, name);
    }
    return readJarEntry(spec, ModelResolver.fromEnvironment().resolve(spec), name);
  }

  private static byte[] readJarEntry(ModelSpec spec, Path jar, String name) {
    try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile())) {
      java.util.zip.ZipEntry entry = zip.getEntry(name);
      if (entry == null) {
        throw new EmbedderException("model '" + spec.id() + "': " + jar + " has no " + name + " (not the jar of "
            + spec.artifact() + "?)");
      }
      try (InputStream in = zip.getInputStream(entry)) {
        return in.readAllBytes();
      }
    } catch (IOException e) {
      throw new EmbedderException("model '" + spec.id() + "': cannot read " + name + " from " + jar + ": " + e, e);
    }
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
    return new ModelSpec(CUSTOM + ":" + dir.getFileName(), null, null, pooling, qp, pp, null, 0);
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

  private static java.util.List<ClassLoader> loaders() {
    return java.util.stream.Stream.of(Thread.currentThread().getContextClassLoader(), ModelFiles.class.getClassLoader())
        .filter(java.util.Objects::nonNull).toList();
  }

  private static byte[] readResource(ModelSpec spec, String name) {
    for (ClassLoader cl : loaders()) {
      try (InputStream in = cl.getResourceAsStream(name)) {
        if (in != null) {
          return in.readAllBytes();
        }
      } catch (IOException e) {
        throw new EmbedderException("model '" + spec.id() + "': cannot read classpath resource " + name, e);
      }
    }
    throw new EmbedderException("model '" + spec.id() + "': classpath resource " + name + " not found");
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
