package io.quarry.core.segment;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link IndexManifest.Model#mismatch}: the one model check of serving, evaluation and tuning. */
class ModelCheckTest {
  private static final IndexManifest.Model INDEX = new IndexManifest.Model("bge-small-en-v1.5-q", "abc", 384);

  @Test
  void sameIdWeightsAndDimensionMatch() {
    assertThat(INDEX.mismatch("v1", new IndexManifest.Model("bge-small-en-v1.5-q", "abc", 384))).isNull();
  }

  @Test
  void anotherIdOrOtherWeightsOrDimensionAreRefusedWithBothModelsNamed() {
    assertThat(INDEX.mismatch("v1", new IndexManifest.Model("e5-small-v2-q", "def", 384)))
        .contains("v1").contains("bge-small-en-v1.5-q").contains("e5-small-v2-q").contains("refusing to mix models");
    // same id, other weights (e.g. a custom model directory reusing the id): refused too
    assertThat(INDEX.mismatch("v1", new IndexManifest.Model("bge-small-en-v1.5-q", "fff", 384)))
        .contains("sha256 abc").contains("sha256 fff");
    assertThat(INDEX.mismatch("v1", new IndexManifest.Model("bge-small-en-v1.5-q", "abc", 768)))
        .contains("dimension 384").contains("768");
  }
}
