package io.quarry.jobs.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.quarry.core.config.EvaluationConfig;
import io.quarry.core.config.QuarryConfig;
import io.quarry.core.eval.EvalReport;
import io.quarry.core.eval.Evaluation;
import io.quarry.core.eval.Leaderboard;
import io.quarry.core.eval.LeaderboardTable;
import io.quarry.report.LeaderboardHtml;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quarry report}: one leaderboard over N evaluations ({@link Leaderboard}): per stage, every run's headline
 * metrics, bytes per vector and p50 latency, each run against a baseline run (the paired randomization test of
 * {@code quarry compare}, with the config's {@code evaluation.permutations} and {@code evaluation.seed}), Holm-adjusted
 * over the N − 1 comparisons, wins/losses/ties, and charts of quality against bytes and latency. Writes
 * {@code leaderboard.md}, {@code leaderboard.html} ({@link LeaderboardHtml}) and {@code leaderboard.json} to
 * {@code --out} and prints the Markdown. Only reads files (no Spark); any Hadoop filesystem. Exit 0, 1 when an
 * evaluation cannot be read, 2 on a bad command line (fewer than two evaluations, an unknown baseline or metric, a
 * glob matching nothing). Never gates: {@code quarry compare --baseline} is the gate.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
    description = "One leaderboard over N evaluations: per-stage metrics, bytes/vector, p50 latency, paired "
        + "significance against a baseline (Holm-corrected), wins/losses, charts; writes leaderboard.md/.html/.json.")
public final class ReportCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Spec CommandSpec spec;

  @Mixin FileCommandConfig configOptions = new FileCommandConfig();

  @Parameters(arity = "1..*", paramLabel = "RUN",
      description = "Evaluations: run ids (<paths.eval>/<id>/metrics.json), metrics.json files, evaluation "
          + "directories, or globs of them (quoted; a glob without '/' matches run ids under paths.eval).")
  List<String> runs = new ArrayList<>();

  @Option(names = "--baseline", paramLabel = "RUN",
      description = "The run the others are tested against: a run's label or any RUN form (added when not among "
          + "the runs). Default: the first run.")
  String baseline;

  @Option(names = "--metric", paramLabel = "METRIC",
      description = "Metric to rank by and chart (default: the first of evaluation.metrics).")
  String metric;

  @Option(names = "--metrics", split = ",", paramLabel = "METRIC",
      description = "Metric columns, those the evaluations have (default: nDCG@10,Recall@100,MRR@10,MAP).")
  List<String> metrics = new ArrayList<>(Leaderboard.DEFAULT_METRICS);

  @Option(names = "--alpha", paramLabel = "ALPHA", defaultValue = "0.05",
      description = "Family-wise significance level of the marks (default: ${DEFAULT-VALUE}).")
  double alpha;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Output directory (default: <paths.eval>/leaderboard).")
  String out;

  /** File beside an evaluation's {@code metrics.json} holding the build time of what it evaluated. */
  public static final String BUILD_FILE = "build.json";

  @Override
  public Integer call() throws Exception {
    Configuration hconf = io.quarry.jobs.DriverHadoopConf.get();
    return report(hconf, configOptions.load(hconf));
  }

  /**
   * The report for a caller that holds the config already ({@code pipeline --matrix}): {@code args} as on the
   * command line ({@code --out}, {@code --baseline}, the runs, ...) minus the config options.
   *
   * @return the exit code ({@link picocli.CommandLine.ParameterException} on a bad argument)
   */
  public static int report(Configuration hconf, QuarryConfig config, List<String> args) throws Exception {
    ReportCommand cmd = new ReportCommand();
    new CommandLine(cmd).parseArgs(args.toArray(String[]::new));
    return cmd.report(hconf, config);
  }

  private int report(Configuration hconf, QuarryConfig config) throws Exception {
    EvaluationConfig e = config.evaluation();
    // every argument to metrics.json paths, in order, each once
    List<String> paths = new ArrayList<>();
    for (String a : runs) {
      for (String p : resolve(hconf, config, a)) {
        if (!paths.contains(p)) {
          paths.add(p);
        }
      }
    }
    List<Leaderboard.Run> list = new ArrayList<>();
    Map<String, String> labels = new LinkedHashMap<>(); // path to label
    for (String p : paths) {
      list.add(run(hconf, p, labels));
    }
    String baseLabel = list.get(0).label();
    if (baseline != null) {
      if (labels.containsValue(baseline)) {
        baseLabel = baseline;
      } else {
        List<String> b = resolve(hconf, config, baseline);
        if (b.size() != 1) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--baseline " + baseline + " names "
              + b.size() + " evaluations, expected one");
        }
        if (!labels.containsKey(b.get(0))) {
          list.add(0, run(hconf, b.get(0), labels));
        }
        baseLabel = labels.get(b.get(0));
      }
    }
    String m = metric != null ? metric : Evaluation.parseMetrics(e.metrics()).get(0).name();
    Leaderboard.Result result;
    try {
      result = Leaderboard.build(list, baseLabel, m, metrics, e.permutations(), e.seed(), alpha);
    } catch (IllegalArgumentException ex) {
      throw new CommandLine.ParameterException(spec.commandLine(), ex.getMessage());
    }
    String md = LeaderboardTable.toMarkdown(result);
    System.out.print(md);
    String dir = out != null ? out : EvaluateJob.child(config.paths().evalDir(), "leaderboard");
    CompareCommand.write(hconf, EvaluateJob.child(dir, "leaderboard.md"), md);
    CompareCommand.write(hconf, EvaluateJob.child(dir, "leaderboard.html"), LeaderboardHtml.render(result));
    CompareCommand.write(hconf, EvaluateJob.child(dir, "leaderboard.json"), JSON.writeValueAsString(result) + "\n");
    System.err.println("quarry report: " + EvaluateJob.child(dir, "leaderboard.md") + " and "
        + EvaluateJob.child(dir, "leaderboard.html") + " (" + list.size() + " evaluations, baseline " + baseLabel
        + ")");
    return 0;
  }

  /**
   * Reads the evaluation at {@code path} and labels it with its directory's name (the run id), or with the whole
   * path when that name is taken (e.g. two work directories' {@code eval/latest}); records the label in
   * {@code labels}.
   */
  private static Leaderboard.Run run(Configuration hconf, String path, Map<String, String> labels)
      throws IOException {
    EvalReport r = EvalReport.fromJson(path, CompareCommand.read(hconf, path));
    Path parent = new Path(path).getParent();
    String label = parent == null || parent.getName().isEmpty() ? path : parent.getName();
    if (labels.containsValue(label)) {
      label = path;
    }
    labels.put(path, label);
    return new Leaderboard.Run(label, r, buildSeconds(hconf, new Path(path).getParent()));
  }

  /** {@code seconds} of {@code <dir>/build.json}, or null when there is none. */
  static Double buildSeconds(Configuration hconf, Path dir) throws IOException {
    if (dir == null) {
      return null;
    }
    Path p = new Path(dir, BUILD_FILE);
    if (!p.getFileSystem(hconf).exists(p)) {
      return null;
    }
    com.fasterxml.jackson.databind.JsonNode n = JSON.readTree(CompareCommand.read(hconf, p.toString()));
    return n.path("seconds").isNumber() ? n.get("seconds").asDouble() : null;
  }

  /**
   * The {@code metrics.json} files one argument names, as qualified paths: a run id or path
   * ({@link CompareCommand#metricsPath}; a directory means its {@code metrics.json}), or a glob (Hadoop glob syntax; without {@code /} it is matched under
   * {@code paths.eval}) whose matches are taken in path order, directories without {@code metrics.json} and names
   * starting with {@code .} or {@code _} (partial and hidden outputs) skipped.
   *
   * @throws CommandLine.ParameterException when a glob matches no evaluation
   */
  List<String> resolve(Configuration hconf, QuarryConfig config, String arg) throws IOException {
    boolean glob = arg.matches(".*[*?\\[{].*");
    if (!glob) {
      String p = CompareCommand.metricsPath(config, arg);
      Path path = new Path(p);
      FileSystem fs = path.getFileSystem(hconf);
      // qualified, as glob matches are: one evaluation named two ways is read once
      Path q = fs.makeQualified(path);
      return List.of((fs.exists(q) && fs.getFileStatus(q).isDirectory() ? new Path(q, "metrics.json") : q)
          .toString());
    }
    String pattern = arg.contains("/") ? arg : EvaluateJob.child(config.paths().evalDir(), arg);
    Path gp = new Path(pattern);
    FileSystem fs = gp.getFileSystem(hconf);
    FileStatus[] matches = fs.globStatus(gp);
    List<String> found = new ArrayList<>();
    if (matches != null) {
      for (FileStatus st : matches) {
        String name = st.getPath().getName();
        if (name.startsWith(".") || name.startsWith("_")) {
          continue;
        }
        Path mj = st.isDirectory() ? new Path(st.getPath(), "metrics.json") : st.getPath();
        if (fs.exists(mj)) {
          found.add(mj.toString());
        }
      }
    }
    if (found.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "'" + arg + "' matches no evaluation ("
          + pattern + ")");
    }
    return found;
  }
}
