package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server embeds queries with the manifest's model and refuses a version built with another one. */
class ModelEncodersTest {
  @TempDir Path root;

  /**
   * Issue 26: a version embedded with a bundled model other than the default (whose jar the serving jar does not
   * carry) is served: the model is resolved by id (local Maven repository, cache or Maven Central).
   */
  @Test
  void servesAVersionEmbeddedWithANonDefaultBundledModel() throws Exception {
    io.quarry.embed.ModelSpec e5 = io.quarry.embed.ModelSpec.bundled("e5-small-v2-q").orElseThrow();
    assertThat(io.quarry.embed.ModelFiles.onClasspath(e5)).as("precondition: not in the serving jar").isFalse();
    Path jar = io.quarry.embed.ModelResolver.fromEnvironment().resolve(e5);
    var fromJar = new io.quarry.core.config.EmbeddingConfig(e5.id(), jar.toString(), 32, 256, 1);
    String e5Sha = io.quarry.embed.ModelFiles.load(fromJar).sha256();
    Path v = TestIndexes.write(root, "v1", 30, 1, "none");
    Path m = v.resolve("manifest.json");
    Files.writeString(m, Files.readString(m).replace(TestIndexes.embedder().modelSha256(), e5Sha)
        .replace("\"" + TestIndexes.EMB.model() + "\"", "\"" + e5.id() + "\""));
    var manifest = io.quarry.core.segment.IndexManifest.parse(Files.readAllBytes(m), "manifest.json");
    assertThat(manifest.model().modelId()).isEqualTo("e5-small-v2-q");

    var encoder = new ModelEncoders(null, 1).forManifest(manifest);

    try (io.quarry.embed.Embedder e = io.quarry.embed.Embedder.open(fromJar)) {
      assertThat(encoder.encode("stem cells in glioblastoma"))
          .containsExactly(e.embedQueries(java.util.List.of("stem cells in glioblastoma"))[0]);
    }
  }

  @Test
  void refusesAVersionEmbeddedWithADifferentModel() throws Exception {
    Path v = TestIndexes.write(root, "v1", 30, 1, "none");
    Path m = v.resolve("manifest.json");
    String sha = TestIndexes.embedder().modelSha256();
    Files.writeString(m, Files.readString(m).replace(sha, "0".repeat(64)));
    TestIndexes.publish(root, "v1");
    try (IndexHolder h = new IndexHolder(new LocalIndexSource(root), new ModelEncoders(null, 1), null, true)) {
      assertThat(h.refresh()).isFalse();
      assertThat(h.status().ready()).isFalse();
      assertThat(h.status().version()).isNull();
      assertThat(h.status().reason()).contains("refusing to mix models").contains(sha);
      assertThat(h.acquire()).isNull();
    }
  }
}
