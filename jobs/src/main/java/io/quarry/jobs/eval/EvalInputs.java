package io.quarry.jobs.eval;

import io.quarry.core.config.EvaluationConfig;
import io.quarry.core.eval.EvalInputException;
import io.quarry.core.eval.Qrels;
import io.quarry.core.eval.Queries;
import io.quarry.jobs.JobContext;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The evaluation inputs as read from {@code evaluation.queries} and {@code evaluation.qrels} (raw bytes kept for the
 * dataset checksums).
 */
record EvalInputs(byte[] queryBytes, byte[] qrelsBytes, Map<String, String> texts, Qrels qrels) {
  /**
   * Reads and parses both files.
   *
   * @throws EvalInputException naming the file: missing, malformed, or judged queries absent from the queries file
   */
  static EvalInputs read(JobContext ctx, EvaluationConfig e) throws IOException {
    return read(ctx.hadoopConf(), e.format(), e.queries(), e.qrelsPath());
  }

  /** {@link #read(JobContext, EvaluationConfig)} without Spark (any Hadoop filesystem of {@code conf}). */
  static EvalInputs read(org.apache.hadoop.conf.Configuration conf, EvaluationConfig e) throws IOException {
    return read(conf, e.format(), e.queries(), e.qrelsPath());
  }

  /** Reads and parses a queries file and a qrels file of {@code format} (beir, trec) on any Hadoop filesystem. */
  static EvalInputs read(org.apache.hadoop.conf.Configuration conf, String format, String queriesPath, String qrelsPath)
      throws IOException {
    byte[] qBytes = readBytes(conf, queriesPath);
    byte[] rBytes = readBytes(conf, qrelsPath);
    Map<String, String> texts = Queries.read(format, queriesPath, reader(qBytes));
    Qrels qrels = Qrels.read(format, qrelsPath, reader(rBytes));
    checkJudgedQueriesExist(queriesPath, qrelsPath, texts, qrels);
    return new EvalInputs(qBytes, rBytes, texts, qrels);
  }

  private static void checkJudgedQueriesExist(String queriesPath, String qrelsPath, Map<String, String> texts,
      Qrels qrels) {
    List<String> missing = new ArrayList<>();
    for (String qid : qrels.queryIds()) {
      if (!texts.containsKey(qid)) {
        missing.add(qid);
      }
    }
    if (!missing.isEmpty()) {
      throw new EvalInputException(qrelsPath, 0, missing.size() + " judged queries are not in " + queriesPath
          + ", e.g. " + missing.subList(0, Math.min(5, missing.size())));
    }
  }

  /**
   * Checks a queries file and a qrels file: both exist and parse, every judged query is in the queries file, and
   * there is at least one; every problem prefixed with {@code <section>.queries} / {@code <section>.qrels}.
   */
  static List<String> check(org.apache.hadoop.conf.Configuration conf, String section, String format,
      String queriesPath, String qrelsPath) {
    List<String> problems = new ArrayList<>();
    Map<String, String> texts = null;
    Qrels qrels = null;
    try {
      texts = Queries.read(format, queriesPath, reader(readBytes(conf, queriesPath)));
    } catch (IOException | RuntimeException ex) {
      problems.add(section + ".queries: " + ex.getMessage());
    }
    try {
      qrels = Qrels.read(format, qrelsPath, reader(readBytes(conf, qrelsPath)));
    } catch (IOException | RuntimeException ex) {
      problems.add(section + ".qrels: " + ex.getMessage());
    }
    if (texts != null && qrels != null) {
      try {
        checkJudgedQueriesExist(queriesPath, qrelsPath, texts, qrels);
      } catch (RuntimeException ex) {
        problems.add(section + ".qrels: " + ex.getMessage());
      }
      if (qrels.queryIds().isEmpty()) {
        problems.add(section + ".qrels: " + qrelsPath + ": no judged query");
      }
    }
    return problems;
  }

  private static byte[] readBytes(org.apache.hadoop.conf.Configuration conf, String path) throws IOException {
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
    org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(conf);
    if (!fs.exists(p)) {
      throw new EvalInputException(path, 0, "file not found");
    }
    try (InputStream in = fs.open(p)) {
      return in.readAllBytes();
    }
  }

  private static BufferedReader reader(byte[] bytes) {
    return new BufferedReader(new InputStreamReader(new ByteArrayInputStream(bytes), StandardCharsets.UTF_8));
  }
}
