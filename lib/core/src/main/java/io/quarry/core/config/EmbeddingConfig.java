package io.quarry.core.config;

/**
 * The embedding model and how it is run.
 *
 * @param model id of a bundled model (e.g. {@code bge-small-en-v1.5-q}) or {@code custom} with {@code modelPath}
 * @param modelPath for {@code custom}: a directory (any Hadoop URI) holding {@code model.onnx} and
 *     {@code tokenizer.json}
 * @param batchSize chunks per ONNX Runtime call
 * @param maxSeqLength maximum sequence length in tokens, special tokens included; longer inputs are truncated
 * @param intraOpThreads ONNX Runtime intra-op threads per executor JVM session
 * @param reuseFrom a previous embeddings dataset whose vectors are reused for chunks with the same reuse key
 *     ({@code io.quarry.core.chunk.ReuseKey}): {@code ""} (or null) = none, {@value #REUSE_AUTO} = the previous
 *     content of {@code paths.embeddings} if there is one, else a directory (any Hadoop URI) that must exist
 * @param extraModels further bundled models whose dense signals the hybrid fuses too (issue 26): the same chunks are
 *     embedded with each (into {@link #extraEmbeddingsDir}), every index version gets a dense field per model
 *     (re-scoring vectors, searched exactly), and the hybrid fuses BM25 with every dense signal. Empty (the
 *     default): one dense signal, and the resolved config (hence config hash, version id, manifest) is the same as
 *     before the key existed, since an empty list is not written
 */
public record EmbeddingConfig(String model, String modelPath, int batchSize, int maxSeqLength, int intraOpThreads,
    String reuseFrom,
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_EMPTY)
    java.util.List<String> extraModels) implements ConfigSection {

  /** {@code reuseFrom} value: reuse the previous content of {@code paths.embeddings}. */
  public static final String REUSE_AUTO = "auto";

  /** Normalizes {@code reuseFrom}: null or blank to {@code ""}, surrounding blanks removed. */
  public EmbeddingConfig {
    reuseFrom = reuseFrom == null ? "" : reuseFrom.strip();
    extraModels = extraModels == null ? java.util.List.of() : java.util.List.copyOf(extraModels);
  }

  /** Without extra dense models. */
  public EmbeddingConfig(String model, String modelPath, int batchSize, int maxSeqLength, int intraOpThreads,
      String reuseFrom) {
    this(model, modelPath, batchSize, maxSeqLength, intraOpThreads, reuseFrom, java.util.List.of());
  }

  /**
   * Where the embeddings of extra model {@code modelId} go: {@code <embeddings>@<modelId>}, beside the primary
   * model's ({@code paths.embeddings}), same chunks, same layout.
   */
  public static String extraEmbeddingsDir(String embeddingsDir, String modelId) {
    String base = embeddingsDir.endsWith("/") ? embeddingsDir.substring(0, embeddingsDir.length() - 1)
        : embeddingsDir;
    return base + "@" + modelId;
  }

  /** Without embedding reuse ({@code reuseFrom = ""}). */
  public EmbeddingConfig(String model, String modelPath, int batchSize, int maxSeqLength, int intraOpThreads) {
    this(model, modelPath, batchSize, maxSeqLength, intraOpThreads, "");
  }

  /**
   * Output dimension of each bundled model, by id ({@code io.quarry.embed.ModelSpec#BUNDLED} holds their files and
   * conventions; lib/embed's {@code EmbedderTest} checks both lists and the dimensions against the real models).
   * Lets {@code validate-config} check the index spec against the model before any work.
   */
  public static final java.util.Map<String, Integer> BUNDLED_MODEL_DIMS = java.util.Map.of(
      "all-minilm-l6-v2", 384, "all-minilm-l6-v2-q", 384, "bge-small-en-v1.5", 384, "bge-small-en-v1.5-q", 384,
      "e5-small-v2", 384, "e5-small-v2-q", 384);

  /** Ids of the bundled models. */
  public static final java.util.Set<String> BUNDLED_MODELS = BUNDLED_MODEL_DIMS.keySet();

  /** The output dimension of {@link #model()} if it is a bundled model; empty for {@code custom} (known at run time). */
  public java.util.OptionalInt bundledDim() {
    Integer d = model == null ? null : BUNDLED_MODEL_DIMS.get(model);
    return d == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(d);
  }

  @Override
  public void validate(String path, Violations v) {
    v.notBlank(model, path + ".model");
    v.check(model == null || "custom".equals(model) || BUNDLED_MODELS.contains(model), path + ".model",
        "must be one of " + new java.util.TreeSet<>(BUNDLED_MODELS) + " or 'custom', got '" + model + "'");
    v.check(!"custom".equals(model) || (modelPath != null && !modelPath.isBlank()), path + ".modelPath",
        "must be set when model is 'custom'");
    v.positive(batchSize, path + ".batchSize");
    v.positive(maxSeqLength, path + ".maxSeqLength");
    v.positive(intraOpThreads, path + ".intraOpThreads");
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (String m : extraModels) {
      v.check(m != null && BUNDLED_MODELS.contains(m), path + ".extraModels",
          "each must be one of " + new java.util.TreeSet<>(BUNDLED_MODELS) + ", got '" + m + "'");
      v.check(m == null || !m.equals(model), path + ".extraModels", "'" + m + "' is embedding.model already");
      v.check(m == null || seen.add(m), path + ".extraModels", "'" + m + "' is listed twice");
    }
  }
}
