package io.quarry.jobs;

import io.quarry.core.config.ConfigInputs;
import io.quarry.core.config.QuarryConfig;
import io.quarry.jobs.eval.EvaluateJob;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The inputs a command reads ({@link ConfigInputs}), checked before any work through Hadoop's filesystems (bare
 * local paths, {@code file://}, {@code s3a://}, {@code hdfs://}), then the evaluation's and tuning's queries and
 * qrels parsed.
 */
public final class InputCheck implements ConfigInputs.FileSystem {
  private final Configuration conf;

  /** @param conf Hadoop configuration for the inputs' filesystems (S3A endpoint, credentials, ...) */
  public InputCheck(Configuration conf) {
    this.conf = conf;
  }

  @Override
  public Type type(String path) throws IOException {
    Path p = new Path(path);
    try {
      FileStatus st = p.getFileSystem(conf).getFileStatus(p);
      return st.isDirectory() ? Type.DIRECTORY : Type.FILE;
    } catch (FileNotFoundException e) {
      return null;
    }
  }

  @Override
  public void read(String path, Type type) throws IOException {
    Path p = new Path(path);
    FileSystem fs = p.getFileSystem(conf);
    if (type == Type.DIRECTORY) {
      fs.listStatus(p);
    } else {
      try (InputStream in = fs.open(p)) {
        in.read();
      }
    }
  }

  /**
   * Every problem of the inputs that {@code stages} read: missing, of the wrong kind, unreadable, or (queries and
   * qrels of {@code evaluate} and {@code tune}) not parsable.
   *
   * @param stages stage command names ({@link ConfigInputs#ALL_STAGES} for {@code validate-config} and
   *     {@code pipeline}); names that read no input are ignored
   * @return each problem as {@code <config key>: <path>: <what is wrong>}, at most one per key; empty when usable
   */
  public static List<String> problems(QuarryConfig c, Configuration conf, Collection<String> stages) {
    List<String> problems = new ArrayList<>(ConfigInputs.check(ConfigInputs.of(c, stages), new InputCheck(conf)));
    List<String> parsed = new ArrayList<>();
    if (stages.contains("evaluate")) {
      parsed.addAll(EvaluateJob.checkInputs(conf, c.evaluation()));
    }
    if (stages.contains("tune")) {
      parsed.addAll(EvaluateJob.checkTuningInputs(conf, c));
    }
    List<String> reported = new ArrayList<>(problems);
    for (String p : parsed) { // a file already reported (missing, say) is not reported again as unparsable
      String key = keyOf(p);
      String rest = p.substring(key.length() + 2);
      if (reported.stream().noneMatch(q -> keyOf(q).equals(key) || rest.startsWith(pathOf(q) + ":"))) {
        problems.add(p);
        reported.add(p);
      }
    }
    return problems;
  }

  private static String keyOf(String problem) {
    int i = problem.indexOf(": ");
    return i < 0 ? problem : problem.substring(0, i);
  }

  /** The path a problem {@code key: path: message} names. */
  private static String pathOf(String problem) {
    String rest = problem.substring(Math.min(problem.length(), keyOf(problem).length() + 2));
    int i = rest.indexOf(": ");
    return i < 0 ? rest : rest.substring(0, i);
  }
}
