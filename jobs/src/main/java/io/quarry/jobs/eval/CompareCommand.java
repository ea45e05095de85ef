package io.quarry.jobs.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.quarry.core.config.EvaluationConfig;
import io.quarry.core.config.QuarryConfig;
import io.quarry.core.eval.Comparison;
import io.quarry.core.eval.EvalInputException;
import io.quarry.core.eval.EvalReport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code quarry compare}: compares an evaluation ({@code metrics.json}) with a baseline one and gates on it, for use
 * as an Airflow task. Prints the comparison as Markdown and writes {@code comparison.md} and {@code comparison.json}
 * beside the current {@code metrics.json} (or in {@code --out}). Exit code 0 when every gated metric is within its
 * tolerance, {@value #EXIT_GATE} when one dropped by more (a regression), 1 on a read error, 2 on a bad config.
 * Runs without Spark; paths may be local or any Hadoop filesystem URI. Warns (stderr, {@code comparison.md},
 * {@code warnings} of {@code comparison.json}; the exit code is unchanged) when the two evaluations embedded on
 * different kinds of processor or ONNX Runtime versions ({@link Comparison#platformWarnings}).
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = "Compare an evaluation with a baseline metrics.json: deltas, per-query wins/losses, paired "
        + "significance tests; exit 3 when a gated metric drops beyond its tolerance.")
public final class CompareCommand implements Callable<Integer> {
  /** Exit code when a gated metric regressed. */
  public static final int EXIT_GATE = 3;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Option(names = "--baseline", required = true, paramLabel = "RUN_ID|METRICS_JSON",
      description = "Baseline: an evaluation run id (its <paths.eval>/<id>/metrics.json) or a metrics.json path.")
  String baseline;

  @Option(names = "--current", paramLabel = "METRICS_JSON",
      description = "Evaluation to check (default: <paths.eval>/<evaluation.runId>/metrics.json of the config).")
  String current;

  @Option(names = "--stage", paramLabel = "STAGE", description = "Stage to compare (default: each one's final stage).")
  String stage;

  @Option(names = "--gate", paramLabel = "METRIC=TOLERANCE",
      description = "Gated metric and tolerated absolute drop, e.g. nDCG@10=0.01 (repeatable; replaces "
          + "evaluation.gate of the config).")
  List<String> gates = new ArrayList<>();

  @Option(names = "--out", paramLabel = "DIR",
      description = "Where to write comparison.md and comparison.json (default: beside the current metrics.json).")
  String out;

  @Mixin FileCommandConfig configOptions = new FileCommandConfig();

  @Override
  public Integer call() throws Exception {
    Configuration hconf = io.quarry.jobs.DriverHadoopConf.get();
    QuarryConfig config = configOptions.load(hconf);
    EvaluationConfig e = config.evaluation();
    String cur = current != null ? current
        : EvaluateJob.child(EvaluateJob.child(config.paths().evalDir(), e.runId()), "metrics.json");
    Map<String, Double> gate = gates.isEmpty() ? e.gate() : parseGates(gates);
    EvalReport b = readBaseline(hconf, config, baseline);
    return gate(hconf, e, b, cur, stage, gate, out);
  }

  /**
   * The baseline evaluation named by {@code baseline}: a run id (its {@code <paths.eval>/<id>/metrics.json}) or a
   * {@code metrics.json} path.
   *
   * @throws EvalInputException naming the file when it is missing or not a metrics.json
   */
  public static EvalReport readBaseline(Configuration hconf, QuarryConfig config, String baseline) throws IOException {
    String base = metricsPath(config, baseline);
    return EvalReport.fromJson(base, read(hconf, base));
  }

  /**
   * The {@code metrics.json} an evaluation argument names: a run id (letters, digits, {@code . _ -}, not ending in
   * {@code .json}) is {@code <paths.eval>/<id>/metrics.json}; anything else is a path, returned as given.
   */
  static String metricsPath(QuarryConfig config, String arg) {
    return isRunId(arg) ? EvaluateJob.child(EvaluateJob.child(config.paths().evalDir(), arg), "metrics.json") : arg;
  }

  /** True when {@code arg} names an evaluation by run id rather than by path. */
  static boolean isRunId(String arg) {
    return arg.matches("[A-Za-z0-9._-]+") && !arg.endsWith(".json");
  }

  /**
   * Compares the evaluation at {@code cur} with {@code b}, prints the comparison as Markdown and writes
   * {@code comparison.md}/{@code comparison.json} to {@code out} (null: beside {@code cur}).
   *
   * @return 0 when every gated metric is within its tolerance, {@value #EXIT_GATE} otherwise
   * @throws IOException when {@code cur} cannot be read or the comparison cannot be written
   */
  public static int gate(Configuration hconf, EvaluationConfig e, EvalReport b, String cur, String stage,
      Map<String, Double> gate, String out) throws IOException {
    EvalReport c = EvalReport.fromJson(cur, read(hconf, cur));
    Comparison.Result r = Comparison.compare(b, c, stage, gate, e.permutations(), e.seed());
    List<String> warnings = Comparison.platformWarnings(b, c);
    StringBuilder md = new StringBuilder(Comparison.toMarkdown(r));
    for (String w : warnings) {
      md.append("\n> **Warning:** ").append(w).append('\n');
      System.err.println("quarry compare: warning: " + w);
    }
    System.out.print(md);
    String dir = out != null ? out : new Path(cur).getParent().toString();
    write(hconf, EvaluateJob.child(dir, "comparison.md"), md.toString());
    Map<String, Object> json = Comparison.toMap(r);
    json.put("warnings", warnings);
    write(hconf, EvaluateJob.child(dir, "comparison.json"), JSON.writeValueAsString(json) + "\n");
    if (!r.passed()) {
      System.err.println("quarry compare: gate FAILED (a gated metric dropped beyond its tolerance)");
      return EXIT_GATE;
    }
    return 0;
  }

  static Map<String, Double> parseGates(List<String> specs) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (String s : specs) {
      int eq = s.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--gate expects METRIC=TOLERANCE, got '" + s + "'");
      }
      double tol;
      try {
        tol = Double.parseDouble(s.substring(eq + 1));
      } catch (NumberFormatException ex) {
        throw new IllegalArgumentException("--gate " + s + ": tolerance is not a number");
      }
      if (tol < 0) {
        throw new IllegalArgumentException("--gate " + s + ": tolerance must be >= 0");
      }
      m.put(s.substring(0, eq), tol);
    }
    return m;
  }

  static String read(Configuration conf, String file) throws IOException {
    Path p = new Path(file);
    FileSystem fs = p.getFileSystem(conf);
    if (!fs.exists(p)) {
      throw new EvalInputException(file, 0, "file not found");
    }
    try (InputStream in = fs.open(p)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  static void write(Configuration conf, String file, String text) throws IOException {
    Path p = new Path(file);
    try (OutputStream o = p.getFileSystem(conf).create(p, true)) {
      o.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }
}
