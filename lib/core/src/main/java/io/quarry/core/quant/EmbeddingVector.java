package io.quarry.core.quant;

import java.util.List;

/**
 * The one validation of an embedding record's vector (the embed stage's {@code vector} column, a list of {@code d}
 * numbers), shared by the train stage and the build, which quarantine a refused row with {@link #reason}: a missing
 * vector ({@value #NULL_VECTOR}), one of another length than the index's dimension ({@value #WRONG_DIMENSION}), or
 * one holding a null, NaN or ±∞ element ({@value #NON_FINITE}).
 *
 * @param vector the {@code d} floats, or null when refused
 * @param reason the quarantine reason code when refused, else null
 */
public record EmbeddingVector(float[] vector, String reason) {
  /** Reason code: the record has no vector. */
  public static final String NULL_VECTOR = "null_vector";
  /** Reason code: the vector's length is not the index's dimension. */
  public static final String WRONG_DIMENSION = "wrong_dimension";
  /** Reason code: an element is null, NaN or infinite. */
  public static final String NON_FINITE = "non_finite";

  /**
   * Checks {@code values} (boxed numbers, as a Spark {@code Row} or Parquet reader gives them; null for a missing
   * vector) against dimension {@code dim} and converts them to floats.
   */
  public static EmbeddingVector parse(List<?> values, int dim) {
    if (values == null) {
      return new EmbeddingVector(null, NULL_VECTOR);
    }
    if (values.size() != dim) {
      return new EmbeddingVector(null, WRONG_DIMENSION);
    }
    float[] x = new float[dim];
    for (int j = 0; j < dim; j++) {
      Object o = values.get(j);
      x[j] = o == null ? Float.NaN : ((Number) o).floatValue();
      if (!Float.isFinite(x[j])) {
        return new EmbeddingVector(null, NON_FINITE);
      }
    }
    return new EmbeddingVector(x, null);
  }

  /** Whether the vector passed. */
  public boolean ok() {
    return vector != null;
  }
}
