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

  static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
