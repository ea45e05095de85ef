package io.quarry.core.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class EmbeddingVectorTest {
  @Test
  void acceptsFiniteVectorsOfTheDimensionAndNamesEveryRefusal() {
    EmbeddingVector ok = EmbeddingVector.parse(List.of(1.0, 2.5f, -3), 3);
    assertThat(ok.ok()).isTrue();
    assertThat(ok.reason()).isNull();
    assertThat(ok.vector()).containsExactly(1f, 2.5f, -3f);
    assertThat(EmbeddingVector.parse(null, 3).reason()).isEqualTo("null_vector");
    assertThat(EmbeddingVector.parse(List.of(1.0, 2.0), 3).reason()).isEqualTo("wrong_dimension");
    assertThat(EmbeddingVector.parse(List.of(), 3).reason()).isEqualTo("wrong_dimension");
    assertThat(EmbeddingVector.parse(List.of(1.0, Double.NaN, 0.0), 3).reason()).isEqualTo("non_finite");
    assertThat(EmbeddingVector.parse(List.of(1.0, 0.0, Float.NEGATIVE_INFINITY), 3).reason()).isEqualTo("non_finite");
    assertThat(EmbeddingVector.parse(Arrays.asList(1.0, null, 0.0), 3).reason()).isEqualTo("non_finite");
    assertThat(EmbeddingVector.parse(List.of(1e39, 0.0, 0.0), 3).reason()).as("overflows float").isEqualTo("non_finite");
    assertThat(EmbeddingVector.parse(null, 3).vector()).isNull();
  }
}
