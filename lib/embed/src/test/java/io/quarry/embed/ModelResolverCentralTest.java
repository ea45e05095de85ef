package io.quarry.embed;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.config.EmbeddingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real resolution of non-default bundled models, as CI and users get them: from Maven Central (needs the network;
 * tag {@code network}) and from this machine's environment (local Maven repository, cache or Central). The jars are
 * also on this module's test classpath, which gives the reference to compare the resolved files with.
 */
@Tag("network")
class ModelResolverCentralTest {
  @TempDir Path tmp;

  @AfterAll
  static void close() {
    Embedder.closeAll();
  }

  @Test
  void downloadsANonDefaultModelFromMavenCentralAndEmbedsWithIt() throws Exception {
    ModelSpec m = ModelSpec.bundled("all-minilm-l6-v2-q").orElseThrow(); // the smallest jar (16 MB)
    ModelResolver r = new ModelResolver(tmp.resolve("empty-m2"), tmp.resolve("cache"), ModelResolver.CENTRAL);

    Path jar = r.resolve(m);

    assertThat(jar).startsWith(tmp.resolve("cache"));
    assertThat(Files.size(jar) / 1e6).isCloseTo(m.jarMb(), org.assertj.core.data.Offset.offset(1.0));
    EmbeddingConfig fromJar = new EmbeddingConfig(m.id(), jar.toString(), 8, 128, 1);
    EmbeddingConfig fromClasspath = new EmbeddingConfig(m.id(), "", 8, 128, 1);
    assertThat(ModelFiles.load(fromJar).sha256()).isEqualTo(ModelFiles.load(fromClasspath).sha256());
    try (Embedder e = Embedder.open(fromJar)) {
      assertThat(e.modelId()).isEqualTo(m.id());
      float[][] v = e.embedQueries(List.of("stem cells in glioblastoma"));
      assertThat(v[0]).hasSize(EmbeddingConfig.BUNDLED_MODEL_DIMS.get(m.id()));
    }
  }

  @Test
  void theEnvironmentsResolverFindsE5SmallV2Q() throws Exception {
    ModelSpec m = ModelSpec.bundled("e5-small-v2-q").orElseThrow();

    Path jar = ModelResolver.fromEnvironment().resolve(m);

    EmbeddingConfig fromJar = new EmbeddingConfig(m.id(), jar.toString(), 8, 128, 1);
    assertThat(ModelFiles.load(fromJar).sha256())
        .isEqualTo(ModelFiles.load(new EmbeddingConfig(m.id(), "", 8, 128, 1)).sha256());
    assertThat(Files.size(jar) / 1e6).isCloseTo(m.jarMb(), org.assertj.core.data.Offset.offset(1.0));
  }
}
