package io.quarry.jobs;

import io.quarry.core.config.ConfigException;
import io.quarry.core.config.ConfigInputs;
import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.ConfigMatrix;
import io.quarry.core.config.EmbeddingConfig;
import io.quarry.core.config.QuarryConfig;
import io.quarry.embed.ModelFiles;
import io.quarry.jobs.build.BuildIndexJob;
import io.quarry.jobs.chunk.ChunkJob;
import io.quarry.jobs.embed.EmbedJob;
import io.quarry.jobs.eval.EvaluateJob;
import io.quarry.jobs.eval.ReportCommand;
import io.quarry.jobs.eval.TuneJob;
import io.quarry.jobs.train.TrainQuantizerJob;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The axes and variants of a {@link MatrixPipeline}: {@code --matrix key=v1;v2 …} arguments and a config file's
 * {@code matrix} section ({@link ConfigMatrix#axes}; a flag replaces the file's axis of its key), and their cross
 * product (the first axis varies slowest).
 */
final class MatrixAxes {
  /** Separates the values of one {@code --matrix} axis ({@code ,} occurs inside values such as index specs). */
  static final String VALUE_SEPARATOR = ";";

  /** One axis: a config key and its values. */
  record Axis(String key, List<String> values) {}

  /** One variant: its readable id and the {@code --set} overrides of its axes' values. */
  record Variant(String id, List<String> overrides) {}

  private MatrixAxes() {}

  /**
   * Parses {@code key=v1;v2;…} arguments.
   *
   * @throws ConfigException listing every malformed argument or repeated key
   */
  static List<Axis> parse(List<String> args) {
    List<String> problems = new ArrayList<>();
    List<Axis> axes = new ArrayList<>();
    Set<String> keys = new LinkedHashSet<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      String key = eq < 0 ? "" : a.substring(0, eq).trim();
      if (key.isEmpty()) {
        problems.add("--matrix " + a + ": expected KEY=VALUE1;VALUE2;…");
        continue;
      }
      if (key.startsWith("paths.")) {
        problems.add("--matrix " + key + ": paths are set per variant by the matrix (under <paths.work>/matrix)");
        continue;
      }
      if (!keys.add(key)) {
        problems.add("--matrix " + key + ": given twice (list every value in one --matrix, separated by ';')");
        continue;
      }
      List<String> values = new ArrayList<>();
      for (String v : a.substring(eq + 1).split(VALUE_SEPARATOR, -1)) {
        v = v.trim();
        if (v.isEmpty()) {
          problems.add("--matrix " + key + ": empty value in '" + a.substring(eq + 1) + "'");
        } else if (values.contains(v)) {
          problems.add("--matrix " + key + ": value " + v + " given twice");
        } else {
          values.add(v);
        }
      }
      axes.add(new Axis(key, values));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return axes;
  }

  /**
   * The cross product of the axes, first axis slowest. A variant's id joins, per axis, the key's last segment and the
   * value, with every character other than letters, digits, {@code .} and {@code -} replaced by {@code -}, e.g.
   * {@code model-all-minilm-l6-v2-q_spec-IVF32-PQ24x8} (a file name on every filesystem; {@code ,}, {@code =} and
   * {@code :} are avoided: Hadoop and Spark give them meanings in paths).
   */
  static List<Variant> variants(List<Axis> axes) {
    List<Variant> out = new ArrayList<>(List.of(new Variant("", List.of())));
    for (Axis axis : axes) {
      String shortKey = axis.key().substring(axis.key().lastIndexOf('.') + 1);
      List<Variant> next = new ArrayList<>();
      for (Variant v : out) {
        for (String value : axis.values()) {
          String part = (shortKey + "-" + value).replaceAll("[^A-Za-z0-9.-]", "-");
          List<String> o = new ArrayList<>(v.overrides());
          o.add(axis.key() + "=" + value);
          next.add(new Variant(v.id().isEmpty() ? part : v.id() + "_" + part, o));
        }
      }
      out = next;
    }
    // sanitizing may merge two ids (e.g. values a,b and a-b): number the later ones
    Set<String> seen = new LinkedHashSet<>();
    List<Variant> unique = new ArrayList<>();
    for (Variant v : out) {
      String id = v.id();
      for (int n = 2; !seen.add(id); n++) {
        id = v.id() + "-" + n;
      }
      unique.add(new Variant(id, v.overrides()));
    }
    return unique;
  }

  /**
   * The axes of the experiment: the config files' {@code matrix} sections ({@link ConfigMatrix#axes}), then the
   * {@code --matrix} flags; a flag's key replaces the files' axis of that key (the command line wins, as with
   * {@code --set}).
   *
   * @throws ConfigException listing every problem of both
   */
  static List<Axis> axes(QuarryCli.ConfigOptions opts, List<String> matrixArgs) throws Exception {
    List<ConfigLoader.Source> sources = new ArrayList<>();
    for (String f : opts.configFiles) {
      sources.add(new ConfigLoader.Source(f, QuarryCli.readText(f)));
    }
    Map<String, Axis> axes = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    try {
      ConfigMatrix.axes(sources).forEach((k, v) -> axes.put(k, new Axis(k, v)));
    } catch (ConfigException e) {
      problems.addAll(e.violations());
    }
    try {
      for (Axis a : parse(matrixArgs)) {
        axes.remove(a.key());
        axes.put(a.key(), a);
      }
    } catch (ConfigException e) {
      problems.addAll(e.violations());
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new ArrayList<>(axes.values());
  }

  /** Whether the config files name a matrix ({@code pipeline} without {@code --matrix} then runs it). */
  static boolean configured(QuarryCli.ConfigOptions opts) throws Exception {
    List<ConfigLoader.Source> sources = new ArrayList<>();
    for (String f : opts.configFiles) {
      sources.add(new ConfigLoader.Source(f, QuarryCli.readText(f)));
    }
    try {
      return !ConfigMatrix.axes(sources).isEmpty();
    } catch (ConfigException e) {
      return true; // the matrix run reports its problems
    }
  }

}
