package io.quarry.core.config;

/**
 * The resolved configuration of a Quarry run: every stage reads its own section. Load it with
 * {@link ConfigLoader}, which applies the documented precedence and validates before returning.
 *
 * @param schemaVersion version of this config schema; only {@value #SCHEMA_VERSION} is accepted
 */
public record QuarryConfig(
    int schemaVersion,
    PathsConfig paths,
    InputConfig input,
    ChunkingConfig chunking,
    EmbeddingConfig embedding,
    QuantizerConfig quantizer,
    SegmentsConfig segments,
    EvaluationConfig evaluation,
    TuningConfig tuning,
    SparkConfig spark) {

  public static final int SCHEMA_VERSION = 1;

  /**
   * Validates every section and the cross-field rules.
   *
   * @throws ConfigException listing every violation found
   */
  public void validate() {
    Violations v = new Violations();
    v.check(schemaVersion == SCHEMA_VERSION, "schemaVersion",
        "must be " + SCHEMA_VERSION + ", got " + schemaVersion);
    paths.validate("paths", v);
    input.validate("input", v);
    chunking.validate("chunking", v);
    embedding.validate("embedding", v);
    quantizer.validate("quantizer", v);
    segments.validate("segments", v);
    evaluation.validate("evaluation", v);
    tuning.validate("tuning", v);
    spark.validate("spark", v);
    v.check(chunking.maxTokens() <= embedding.maxSeqLength(), "chunking.maxTokens",
        "must be <= embedding.maxSeqLength (" + embedding.maxSeqLength() + "), got " + chunking.maxTokens());
    // The index spec against the model's dimension (d % M == 0 for PQ and OPQ), known here for bundled models;
    // a custom model's dimension is checked when training starts.
    if (quantizer.spec() != null && embedding.bundledDim().isPresent()) {
      int d = embedding.bundledDim().getAsInt();
      try {
        io.quarry.core.quant.IndexSpec.parse(quantizer.spec()).validateFor(d);
      } catch (IllegalArgumentException e) {
        // a spec that does not parse is already reported by QuantizerConfig
        if (!e.getMessage().contains("dimension") && isParsable(quantizer.spec())) {
          v.add("quantizer.spec", e.getMessage() + " (embedding.model " + embedding.model() + " gives d = " + d + ")");
        }
      }
    }
    v.throwIfAny();
  }

  private static boolean isParsable(String spec) {
    try {
      io.quarry.core.quant.IndexSpec.parse(spec);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
