package io.quarry.embed;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * How to run one embedding model: its files, pooling and the prefixes its model card prescribes.
 *
 * @param id model id as written in {@code embedding.model}
 * @param resourceName base name of {@code <resourceName>.onnx} and {@code <resourceName>-tokenizer.json} at the
 *     root of the model's Maven Central jar (null for custom models)
 * @param artifact Maven coordinates of the jar holding the files (null for custom models)
 * @param pooling token pooling
 * @param queryPrefix prepended to every query ("" for none)
 * @param passagePrefix prepended to every passage ("" for none)
 * @param licence SPDX id of the model's licence, from its model card (null for custom models)
 * @param jarMb size of the model's jar in MB (10^6 bytes), rounded: what a fetch downloads (0 for custom models)
 */
public record ModelSpec(String id, String resourceName, String artifact, Pooling pooling, String queryPrefix,
    String passagePrefix, String licence, int jarMb) {

  private static final String L4J = "dev.langchain4j:langchain4j-embeddings-";
  private static final String BGE_QUERY = "Represent this sentence for searching relevant passages: ";

  /**
   * The bundled models. Pooling and prefixes follow each model card: all-MiniLM-L6-v2 (mean, no prefix),
   * bge-small-en-v1.5 (CLS, query instruction, no passage prefix), e5-small-v2 (mean, {@code query: } /
   * {@code passage: }). The {@code -q} variants are the int8-quantized ONNX exports of the same models.
   */
  public static final List<ModelSpec> BUNDLED = List.of(
      new ModelSpec("all-minilm-l6-v2", "all-minilm-l6-v2", L4J + "all-minilm-l6-v2:1.20.0-beta30",
          Pooling.MEAN, "", "", "Apache-2.0", 83),
      new ModelSpec("all-minilm-l6-v2-q", "all-minilm-l6-v2-q", L4J + "all-minilm-l6-v2-q:1.20.0-beta30",
          Pooling.MEAN, "", "", "Apache-2.0", 16),
      new ModelSpec("bge-small-en-v1.5", "bge-small-en-v1.5", L4J + "bge-small-en-v15:1.20.0-beta30",
          Pooling.CLS, BGE_QUERY, "", "MIT", 78),
      new ModelSpec("bge-small-en-v1.5-q", "bge-small-en-v1.5-q", L4J + "bge-small-en-v15-q:1.20.0-beta30",
          Pooling.CLS, BGE_QUERY, "", "MIT", 25),
      new ModelSpec("e5-small-v2", "e5-small-v2", L4J + "e5-small-v2:1.17.0-beta27",
          Pooling.MEAN, "query: ", "passage: ", "MIT", 79),
      new ModelSpec("e5-small-v2-q", "e5-small-v2-q", L4J + "e5-small-v2-q:1.11.0-beta19",
          Pooling.MEAN, "query: ", "passage: ", "MIT", 25));

  private static final Map<String, ModelSpec> BY_ID =
      BUNDLED.stream().collect(Collectors.toMap(ModelSpec::id, Function.identity()));

  /** The bundled model with this id, if any. */
  public static Optional<ModelSpec> bundled(String id) {
    return Optional.ofNullable(BY_ID.get(id));
  }

  /** Classpath resource of the ONNX file. */
  public String onnxResource() {
    return resourceName + ".onnx";
  }

  /** Classpath resource of the tokenizer.json. */
  public String tokenizerResource() {
    return resourceName + "-tokenizer.json";
  }
}
