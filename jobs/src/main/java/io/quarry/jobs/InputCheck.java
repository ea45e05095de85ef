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
   * The stage names whose inputs a command reads, for {@code validate-config --stage}: a stage command itself, the
   * stages {@code index}, {@code compact} and {@code pipeline} run, none for {@code train} and {@code publish} (they
   * read only earlier stages' outputs).
   */
  public static final java.util.Map<String, List<String>> COMMAND_STAGES = java.util.Map.of(
      "chunk", List.of("chunk"), "embed", List.of("embed"), "train", List.of(), "build", List.of("build"),
      "compact", List.of("build"), "index", List.of("chunk", "embed", "build"), "tune", List.of("tune"),
      "evaluate", List.of("evaluate"), "publish", List.of(), "pipeline", List.copyOf(new java.util.TreeSet<>(
          ConfigInputs.ALL_STAGES)));

  /**
   * Every problem of the inputs that {@code stages} read: missing, of the wrong kind, unreadable, or (queries and
   * qrels of {@code evaluate} and {@code tune}) not parsable.
   *
   * @param stages stage command names ({@link ConfigInputs#ALL_STAGES} for {@code validate-config} and
   *     {@code pipeline}); names that read no input are ignored
   * @return each problem as {@code <config key>: <path>: <what is wrong>}, at most one per key; empty when usable
   */
  public static List<String> problems(QuarryConfig c, Configuration conf, Collection<String> stages) {
    List<ConfigInputs.Input> inputs = ConfigInputs.of(c, stages);
    List<String> problems = new ArrayList<>(ConfigInputs.check(inputs, new InputCheck(conf)));
    if (problems.stream().noneMatch(p -> p.startsWith("segments.base: "))) {
      for (ConfigInputs.Input i : inputs) {
        if (i.key().equals("segments.base") && i.kind() == ConfigInputs.Kind.FILE) { // CURRENT: the version it names
          String p = currentVersionProblem(conf, c.paths().indexDir(), i.path());
          if (p != null) {
            problems.add("segments.base: " + p);
          }
        }
      }
    }
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

  /** What is wrong with the version {@code current} names (empty, or no complete version), or null. */
  static String currentVersionProblem(Configuration conf, String indexDir, String current) {
    try {
      Path p = new Path(current);
      String v;
      try (InputStream in = p.getFileSystem(conf).open(p)) {
        v = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
      }
      if (v.isEmpty()) {
        return current + ": empty (segments.base is empty: name the base version)";
      }
      String manifest = ConfigInputs.child(ConfigInputs.child(indexDir, v), ConfigInputs.VERSION_COMPLETE);
      Path m = new Path(manifest);
      if (!m.getFileSystem(conf).exists(m)) {
        return current + " names '" + v + "', which has no " + ConfigInputs.VERSION_COMPLETE + " (not a complete "
            + "index version under " + indexDir + ")";
      }
      return null;
    } catch (IOException | RuntimeException e) {
      return current + ": not readable: " + e.getMessage();
    }
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
