package io.quarry.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigInputsTest {
  @TempDir Path tmp;

  /** The local filesystem through java.nio (the jobs check the same inputs through Hadoop's filesystems). */
  static final ConfigInputs.FileSystem LOCAL = new ConfigInputs.FileSystem() {
    @Override
    public Type type(String path) {
      Path p = Path.of(path);
      return Files.isDirectory(p) ? Type.DIRECTORY : Files.exists(p) ? Type.FILE : null;
    }

    @Override
    public void read(String path, Type type) throws IOException {
      if (type == Type.DIRECTORY) {
        try (Stream<Path> s = Files.list(Path.of(path))) {
          s.findFirst();
        }
      } else {
        try (InputStream in = Files.newInputStream(Path.of(path))) {
          in.read();
        }
      }
    }
  };

  private QuarryConfig load(String... overrides) {
    return ConfigLoader.load(List.of(), List.of(overrides),
        c -> ConfigInputs.check(ConfigInputs.of(c), LOCAL));
  }

  @Test
  void everyInputProblemIsListedWithTheSchemaProblemsInOneGo() throws IOException {
    Path queries = Files.createDirectories(tmp.resolve("queries-dir"));
    Path qrels = Files.writeString(tmp.resolve("qrels.tsv"), "q\tc\t1\n");
    Path model = Files.createDirectories(tmp.resolve("model"));
    Files.writeString(model.resolve("model.onnx"), "x");
    Path ce = Files.writeString(tmp.resolve("ce.onnx"), "x");
    assertThatThrownBy(() -> load("input.corpus=" + tmp.resolve("nonexistent"), "embedding.model=custom",
        "embedding.modelPath=" + model, "evaluation.queries=" + queries, "evaluation.qrels=" + qrels,
        "evaluation.crossEncoder=" + ce, "evaluation.stages=[bm25,cross-encoder]",
        "tuning.qrels=" + tmp.resolve("train.tsv"), "tuning.queries=" + qrels, "chunking.maxTokens=0"))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).violations()).containsExactlyInAnyOrder(
            "chunking.maxTokens: must be > 0, got 0",
            "chunking.overlapTokens: must be >= 0 and < maxTokens (0), got 32",
            "input.corpus: " + tmp.resolve("nonexistent") + ": file or directory not found",
            "embedding.modelPath: " + model + ": no tokenizer.json",
            "evaluation.queries: " + queries + ": is a directory, expected a file",
            "evaluation.crossEncoder: " + ce + ": is a file, expected a directory holding model.onnx and "
                + "tokenizer.json",
            "tuning.qrels: " + tmp.resolve("train.tsv") + ": file not found"));
  }

  @Test
  void aKeyWithASchemaProblemIsNotCheckedAgainAsAnInput() {
    assertThatThrownBy(() -> load("embedding.model=custom", "embedding.modelPath="))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).violations())
            .filteredOn(v -> v.startsWith("embedding.modelPath"))
            .containsExactly("embedding.modelPath: must be set when model is 'custom'"));
  }

  @Test
  void stagesCheckOnlyWhatTheyRead() throws IOException {
    Path corpus = Files.writeString(tmp.resolve("corpus.jsonl"), "{}\n");
    QuarryConfig c = ConfigLoader.load(List.of(), List.of("input.corpus=" + corpus,
        "evaluation.queries=" + tmp.resolve("q.jsonl"), "tuning.qrels=" + tmp.resolve("train.tsv")));
    assertThat(ConfigInputs.check(ConfigInputs.of(c, Set.of("chunk")), LOCAL)).isEmpty();
    // tune reads evaluation.queries when tuning.queries is unset
    assertThat(ConfigInputs.check(ConfigInputs.of(c, Set.of("tune")), LOCAL)).containsExactly(
        "evaluation.queries: " + tmp.resolve("q.jsonl") + ": file not found",
        "tuning.qrels: " + tmp.resolve("train.tsv") + ": file not found");
    assertThat(ConfigInputs.of(c, ConfigInputs.ALL_STAGES)).extracting(ConfigInputs.Input::key)
        .containsExactly("input.corpus", "evaluation.queries", "evaluation.qrels", "tuning.qrels");
  }

  @Test
  void reuseDirectoriesMustBeCompleteAndIncrementalBuildsNeedTheirBase() throws IOException {
    Path chunks = Files.createDirectories(tmp.resolve("chunks"));
    Files.writeString(chunks.resolve(ConfigInputs.CHUNKS_COMPLETE), "{}");
    Path emb = Files.createDirectories(tmp.resolve("emb"));
    Path index = Files.createDirectories(tmp.resolve("index"));
    Files.createDirectories(index.resolve("v2"));
    Files.writeString(index.resolve("v2").resolve(ConfigInputs.VERSION_COMPLETE), "{}");
    QuarryConfig c = ConfigLoader.load(List.of(), List.of("chunking.reuseFrom=" + chunks,
        "embedding.reuseFrom=" + emb, "paths.index=" + index, "segments.incremental=true", "segments.base=v2"));
    assertThat(ConfigInputs.of(c, Set.of("chunk", "embed", "build"))).extracting(ConfigInputs.Input::key)
        .containsExactly("input.corpus", "chunking.reuseFrom", "embedding.reuseFrom", "segments.base");
    assertThat(ConfigInputs.check(ConfigInputs.of(c, Set.of("chunk", "build")), LOCAL))
        .noneMatch(p -> p.startsWith("chunking.") || p.startsWith("segments."));
    assertThat(ConfigInputs.check(ConfigInputs.of(c, Set.of("embed")), LOCAL)).singleElement().asString()
        .startsWith("embedding.reuseFrom: " + emb + ": no _model.json (a complete embeddings directory");
    // "" and auto name no directory; a full build reads no base
    QuarryConfig none = ConfigLoader.load(List.of(), List.of("chunking.reuseFrom=auto", "embedding.reuseFrom="));
    assertThat(ConfigInputs.of(none)).extracting(ConfigInputs.Input::key).doesNotContain("chunking.reuseFrom",
        "embedding.reuseFrom", "segments.base");
  }
}
