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
    v.throwIfAny();
  }
}
