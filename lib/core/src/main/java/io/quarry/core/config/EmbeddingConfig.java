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
 */
public record EmbeddingConfig(String model, String modelPath, int batchSize, int maxSeqLength, int intraOpThreads)
    implements ConfigSection {

  @Override
  public void validate(String path, Violations v) {
    v.notBlank(model, path + ".model");
    v.check(!"custom".equals(model) || (modelPath != null && !modelPath.isBlank()), path + ".modelPath",
        "must be set when model is 'custom'");
    v.positive(batchSize, path + ".batchSize");
    v.positive(maxSeqLength, path + ".maxSeqLength");
    v.positive(intraOpThreads, path + ".intraOpThreads");
  }
}
