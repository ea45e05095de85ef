package io.quarry.core.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.config.ChunkingConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReuseKeyTest {
  static final String SHA = "ab".repeat(32);
  static final ChunkingConfig CH = new ChunkingConfig("token", 256, 32, true);

  @Test
  void sameInputsGiveTheSameKeyAndEveryInputChangesIt() {
    ReuseKey k = ReuseKey.of(SHA, CH, 512, "");
    String key = k.key("Title", "some text", true);
    assertThat(key).hasSize(64).matches("[0-9a-f]{64}")
        .isEqualTo(ReuseKey.of(SHA, new ChunkingConfig("token", 256, 32, true), 512, "").key("Title\n\nsome text"));
    Set<String> keys = new HashSet<>(List.of(key,
        k.key("Title", "some text.", true),
        k.key("Other", "some text", true),
        k.key("Title", "some text", false),
        ReuseKey.of("cd".repeat(32), CH, 512, "").key("Title", "some text", true),
        ReuseKey.of(SHA, new ChunkingConfig("recursive", 256, 32, true), 512, "").key("Title", "some text", true),
        ReuseKey.of(SHA, new ChunkingConfig("token", 128, 32, true), 512, "").key("Title", "some text", true),
        ReuseKey.of(SHA, new ChunkingConfig("token", 256, 16, true), 512, "").key("Title", "some text", true),
        ReuseKey.of(SHA, CH, 256, "").key("Title", "some text", true),
        ReuseKey.of(SHA, CH, 512, "passage: ").key("Title", "some text", true)));
    assertThat(keys).as("each changed input gives a distinct key").hasSize(10);
  }

  @Test
  void fieldsCannotRunIntoEachOther() {
    // "passage: " + "x" vs "passage:" + " x": same concatenation, different fields
    assertThat(ReuseKey.of(SHA, CH, 512, "passage: ").key("x"))
        .isNotEqualTo(ReuseKey.of(SHA, CH, 512, "passage:").key(" x"));
  }

  @Test
  void documentKeysChangeWithEveryInputTheChunksDependOn() {
    ReuseKey d = ReuseKey.forDocuments(SHA, CH);
    String key = d.documentKey("doc1", "Title", "some text");
    assertThat(key).matches("[0-9a-f]{64}")
        .isEqualTo(ReuseKey.forDocuments(SHA, new ChunkingConfig("token", 256, 32, false, "auto"))
            .documentKey("doc1", "Title", "some text"))
        .as("a document key is not a chunk key of the same strings").isNotEqualTo(ReuseKey.of(SHA, CH, 512, "")
            .key("Title", "some text", true));
    Set<String> keys = new HashSet<>(List.of(key,
        d.documentKey("doc2", "Title", "some text"),
        d.documentKey("doc1", "Other", "some text"),
        d.documentKey("doc1", null, "some text"),
        d.documentKey("doc1", "", "some text"),
        d.documentKey("doc1", "Title", "some text."),
        ReuseKey.forDocuments("cd".repeat(32), CH).documentKey("doc1", "Title", "some text"),
        ReuseKey.forDocuments(SHA, new ChunkingConfig("recursive", 256, 32, true)).documentKey("doc1", "Title",
            "some text"),
        ReuseKey.forDocuments(SHA, new ChunkingConfig("token", 128, 32, true)).documentKey("doc1", "Title",
            "some text"),
        ReuseKey.forDocuments(SHA, new ChunkingConfig("token", 256, 16, true)).documentKey("doc1", "Title",
            "some text")));
    assertThat(keys).as("each changed input (a null title included) gives a distinct key").hasSize(10);
  }
}
