package io.quarry.core.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class IndexSpecTest {

  @ParameterizedTest
  @ValueSource(strings = {"OPQ48,IVF1024,PQ48x8", "IVF256,PQ16x8", "PQ32x8", "IVF1024,Flat", "OPQ16,PQ16x4",
      "Flat", "IVF1,PQ1x1"})
  void canonicalSpecsRoundTrip(String s) {
    IndexSpec spec = IndexSpec.parse(s);
    assertThat(spec.toString()).isEqualTo(s);
    assertThat(IndexSpec.parse(spec.toString())).isEqualTo(spec);
  }

  @Test
  void parsesComponents() {
    IndexSpec spec = IndexSpec.parse("OPQ48,IVF1024,PQ48x8");
    assertThat(spec.opqM()).isEqualTo(48);
    assertThat(spec.nlist()).isEqualTo(1024);
    assertThat(spec.pqM()).isEqualTo(48);
    assertThat(spec.nbits()).isEqualTo(8);
    assertThat(spec.codeSize(384)).isEqualTo(48);
    assertThat(IndexSpec.parse("PQ16").toString()).isEqualTo("PQ16x8");
    assertThat(IndexSpec.parse(" IVF64 , PQ16x8 ")).isEqualTo(IndexSpec.parse("IVF64,PQ16x8"));
    assertThat(IndexSpec.parse("PQ32x8").effectiveNlist()).isEqualTo(1);
    assertThat(IndexSpec.parse("IVF8,PQ5x3").codeSize(10)).isEqualTo(2);
    assertThat(IndexSpec.parse("IVF8,Flat").codeSize(10)).isEqualTo(40);
  }

  @ParameterizedTest
  @CsvSource(delimiter = ';', value = {
      "IVF64,PQ16x9; nbits must be in 1..8, got 9",
      "IVF64,PQ16x0; nbits must be in 1..8, got 0",
      "IVF64,HNSW32; unknown component 'HNSW32'",
      "PQ16x8,IVF64; unexpected component 'IVF64' after the encoding",
      "IVF64,OPQ16,PQ16x8; OPQ must come first",
      "IVF64; missing the encoding",
      "IVF0,PQ16x8; IVF nlist must be > 0",
      "IVF64,PQ0x8; PQ M must be > 0",
      "OPQ16,IVF64,Flat; OPQ16 needs a PQ encoding",
      "IVF64,,PQ8; empty component",
      "OPQ16_64,PQ16; output dimension",
      "ivf64,pq16; unknown component 'ivf64'"})
  void invalidSpecsNameTheProblem(String spec, String message) {
    assertThatThrownBy(() -> IndexSpec.parse(spec))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message)
        .hasMessageContaining(spec);
  }

  @Test
  void emptySpecIsRejected() {
    assertThatThrownBy(() -> IndexSpec.parse(" ")).hasMessageContaining("empty");
  }

  @Test
  void dimensionMustBeDivisibleByM() {
    assertThatThrownBy(() -> IndexSpec.parse("IVF64,PQ48x8").validateFor(100))
        .hasMessageContaining("d = 100 is not divisible by PQ M = 48");
    assertThatThrownBy(() -> IndexSpec.parse("OPQ7,PQ4x8").validateFor(8))
        .hasMessageContaining("not divisible by OPQ M = 7");
    IndexSpec.parse("OPQ48,IVF1024,PQ48x8").validateFor(384);
  }
}
