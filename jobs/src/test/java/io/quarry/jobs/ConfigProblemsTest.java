package io.quarry.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every problem of a config and of the inputs it names comes out of one run, exit 2, before any work: from
 * {@code validate-config} and from the stage commands.
 */
class ConfigProblemsTest {
  @TempDir Path tmp;

  /** Exit code and standard error of one CLI run. */
  record Run(int rc, String err) {}

  static Run run(String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream old = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int rc = QuarryCli.run(args);
      return new Run(rc, err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(old);
    }
  }

  private Path samples() {
    Path p = Path.of("../data-samples/scifact").toAbsolutePath().normalize();
    assertThat(p.resolve("corpus.jsonl")).exists();
    return p;
  }

  @Test
  void validateConfigListsDuplicatesSchemaErrorsAndEveryBadInputAtOnce() throws Exception {
    Path conf = Files.writeString(tmp.resolve("quarry.yaml"), """
        paths:
          work: %s
        quantizer:
          spec: IVF16,PQ48x8
          spec: IVF32,PQ48x8
        chunking: {maxTokens: 0}
        evaluation:
          queries: %s
          qrels: %s
        segments:
          shards: 2
        segments:
          shards: 3
        """.formatted(tmp.resolve("work"), tmp.resolve("no-queries.jsonl"),
        Files.writeString(tmp.resolve("qrels.tsv"), "query-id\tcorpus-id\tscore\n1\t31715818\n")));
    Run r = run("validate-config", "--config", conf.toString(), "--set", "input.corpus=/nonexistent",
        "--set", "tuning.qrels=" + tmp.resolve("train.tsv"));
    assertThat(r.rc()).as(r.err()).isEqualTo(QuarryCli.EXIT_USAGE);
    assertThat(r.err()).contains(
        "quantizer.spec: duplicate key at " + conf + ":5 (first at line 4)",
        "segments: duplicate key at " + conf + ":12 (first at line 10)",
        "chunking.maxTokens: must be > 0, got 0",
        "input.corpus: /nonexistent: file or directory not found",
        "evaluation.queries: " + tmp.resolve("no-queries.jsonl") + ": file not found",
        "tuning.qrels: " + tmp.resolve("train.tsv") + ": file not found",
        "evaluation.qrels: " + tmp.resolve("qrels.tsv") + ":2");
    assertThat(r.err()).contains("(8 problems)");
  }

  @Test
  void theQuickStartConfigWithAMissingCorpusExits2() {
    Path s = samples();
    String[] common = {"--set", "paths.work=" + tmp.resolve("work"), "--set", "evaluation.queries="
        + s.resolve("queries.jsonl"), "--set", "evaluation.qrels=" + s.resolve("qrels/test.tsv"), "--set",
        "tuning.qrels=" + s.resolve("qrels/train.tsv")};
    Run ok = run(concat(new String[] {"validate-config", "--set", "input.corpus=" + s.resolve("corpus.jsonl")},
        common));
    assertThat(ok.rc()).as(ok.err()).isZero();
    // a directory is a corpus too
    assertThat(run(concat(new String[] {"validate-config", "--set", "input.corpus=" + s}, common)).rc()).isZero();

    Run bad = run(concat(new String[] {"validate-config", "--set", "input.corpus=/nonexistent"}, common));
    assertThat(bad.rc()).isEqualTo(QuarryCli.EXIT_USAGE);
    assertThat(bad.err()).contains("(1 problem)", "input.corpus: /nonexistent: file or directory not found");
  }

  @Test
  void stageCommandsCheckTheirInputsBeforeSparkStarts() {
    // chunk reads only the corpus: a missing one is a usage error (2), not a job failure (1) that a scheduler retries
    Run chunk = run("chunk", "--set", "paths.work=" + tmp.resolve("work"), "--set", "input.corpus=/nonexistent",
        "--set", "spark.master=local[1]");
    assertThat(chunk.rc()).as(chunk.err()).isEqualTo(QuarryCli.EXIT_USAGE);
    assertThat(chunk.err()).contains("(1 problem)", "input.corpus: /nonexistent: file or directory not found");
    assertThat(tmp.resolve("work")).doesNotExist();
    // evaluate reads the queries, qrels and the cross-encoder, not the corpus
    Path ce = tmp.resolve("reranker");
    Run eval = run("evaluate", "--set", "paths.work=" + tmp.resolve("work"), "--set", "input.corpus=/nonexistent",
        "--set", "evaluation.queries=" + samples().resolve("queries.jsonl"), "--set",
        "evaluation.qrels=" + tmp.resolve("none.tsv"), "--set", "evaluation.crossEncoder=" + ce);
    assertThat(eval.rc()).as(eval.err()).isEqualTo(QuarryCli.EXIT_USAGE);
    assertThat(eval.err()).contains("(2 problems)", "evaluation.qrels: " + tmp.resolve("none.tsv")
        + ": file not found", "evaluation.crossEncoder: " + ce + ": directory not found")
        .doesNotContain("input.corpus");
    assertThat(tmp.resolve("work")).doesNotExist();
  }

  @Test
  void reuseDirectoriesAndTheIncrementalBaseAreInTheOneListBeforeSparkStarts() throws Exception {
    // the JVM may hold the shared context of earlier Spark test classes: the commands must neither start, join
    // nor stop one
    scala.Option<org.apache.spark.SparkContext> sparkBefore = org.apache.spark.SparkContext$.MODULE$.getActive();
    Path work = tmp.resolve("work");
    Path index = Files.createDirectories(tmp.resolve("index"));
    Files.createDirectories(index.resolve("v1")); // a version without its manifest: killed while being written
    Path oldEmb = Files.createDirectories(tmp.resolve("old-embeddings")); // no _model.json
    Path oldChunks = Files.createDirectories(tmp.resolve("old-chunks"));
    Files.writeString(oldChunks.resolve("_summary.json"), "{}");
    String[] common = {"--set", "paths.work=" + work, "--set", "paths.index=" + index, "--set",
        "spark.master=local[1]"};
    // index --incremental: chunk, embed and build's inputs, every problem at once, exit 2, Spark never started
    Run r = run(concat(new String[] {"index", "--incremental", "--base", "v1", "--set", "input.corpus=/nonexistent",
        "--set", "chunking.reuseFrom=" + tmp.resolve("no-chunks"), "--set", "embedding.reuseFrom=" + oldEmb},
        common));
    assertThat(r.rc()).as(r.err()).isEqualTo(QuarryCli.EXIT_USAGE);
    assertThat(r.err()).contains("(4 problems)",
        "input.corpus: /nonexistent: file or directory not found",
        "chunking.reuseFrom: " + tmp.resolve("no-chunks") + ": directory not found (a complete chunks directory",
        "embedding.reuseFrom: " + oldEmb + ": no _model.json (a complete embeddings directory",
        "segments.base: " + index.resolve("v1") + ": no manifest.json (not a complete index version under " + index);
    assertThat(work).doesNotExist();
    assertThat(org.apache.spark.SparkContext$.MODULE$.getActive()).isEqualTo(sparkBefore);

    // a complete previous chunks directory is fine; build reads only the base; no CURRENT to take it from
    Run build = run(concat(new String[] {"build", "--incremental", "--set", "chunking.reuseFrom=" + oldChunks,
        "--set", "embedding.reuseFrom=" + oldEmb}, common));
    assertThat(build.rc()).as(build.err()).isEqualTo(QuarryCli.EXIT_USAGE);
    assertThat(build.err()).contains("(1 problem)", "segments.base: " + index.resolve("CURRENT")
        + ": file not found (segments.base is empty");
    Files.writeString(index.resolve("CURRENT"), "v1\n");
    build = run(concat(new String[] {"compact"}, common));
    assertThat(build.err()).contains("(1 problem)", "segments.base: " + index.resolve("CURRENT")
        + " names 'v1', which has no manifest.json");
    assertThat(work).doesNotExist();

    // validate-config checks every stage's inputs, or one command's with --stage; auto needs no directory yet
    Path conf = Files.writeString(tmp.resolve("q.yaml"), """
        chunking: {reuseFrom: %s}
        embedding: {reuseFrom: auto}
        """.formatted(tmp.resolve("no-chunks")));
    Run all = run(concat(new String[] {"validate-config", "--config", conf.toString()}, common));
    assertThat(all.rc()).isEqualTo(QuarryCli.EXIT_USAGE);
    assertThat(all.err()).contains("chunking.reuseFrom: " + tmp.resolve("no-chunks")).doesNotContain("embedding");
    Run embedOnly = run(concat(new String[] {"validate-config", "--config", conf.toString(), "--stage", "embed",
        "--stage", "train"}, common));
    assertThat(embedOnly.rc()).as(embedOnly.err()).isZero();
    Run unknown = run(concat(new String[] {"validate-config", "--stage", "chnk"}, common));
    assertThat(unknown.rc()).isEqualTo(QuarryCli.EXIT_USAGE);
    assertThat(unknown.err()).contains("--stage: unknown command 'chnk'");
    assertThat(work).doesNotExist();
  }

  static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
