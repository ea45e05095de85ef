package io.quarry.core.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.config.ConfigException;
import io.quarry.core.config.ConfigLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** quantizer.spec is validated when the config loads, before any job runs. */
class QuantizerConfigSpecTest {

  @Test
  void invalidSpecIsAConfigError() {
    assertThatThrownBy(() -> ConfigLoader.load(List.of(), List.of("quantizer.spec=IVF64,PQ16x9")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("quantizer.spec")
        .hasMessageContaining("nbits must be in 1..8, got 9");
  }

  @Test
  void defaultSpecParses() {
    assertThat(IndexSpec.parse(ConfigLoader.load(List.of(), List.of()).quantizer().spec()).hasIvf()).isTrue();
  }
}
