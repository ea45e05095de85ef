package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server embeds queries with the manifest's model and refuses a version built with another one. */
class ModelEncodersTest {
  @TempDir Path root;

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
