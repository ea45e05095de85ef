package io.quarry.core.config;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The files and directories a config reads (corpus, embedding model, evaluation and tuning queries and qrels,
 * cross-encoder, the previous chunks and embeddings named by {@code chunking.reuseFrom} and
 * {@code embedding.reuseFrom}, the base version of an incremental build), which stages read each, and the one check
 * that they exist, are complete and are readable. The check goes through
 * a {@link FileSystem} seam: this module is Hadoop-free; the jobs check local paths and Hadoop URIs ({@code s3a://},
 * {@code hdfs://}) through Hadoop's filesystems.
 */
public final class ConfigInputs {
  /** Every stage name that reads an input; {@code validate-config} and {@code pipeline} check all of them. */
  public static final Set<String> ALL_STAGES = Set.of("chunk", "embed", "build", "tune", "evaluate");

  /**
   * The file a complete chunks directory holds (written last by the chunk stage): what {@code chunking.reuseFrom}
   * must hold.
   */
  public static final String CHUNKS_COMPLETE = "_summary.json";

  /**
   * The file of an embeddings directory that the embed stage reads to reuse it (the model that wrote the vectors,
   * written after them): what {@code embedding.reuseFrom} must hold.
   */
  public static final String EMBEDDINGS_COMPLETE = "_model.json";

  /** The manifest of a complete index version (= {@code IndexManifest.FILE_NAME}). */
  public static final String VERSION_COMPLETE = "manifest.json";

  /** The file under {@code paths.index} naming the published version (= {@code IndexManifest.CURRENT}). */
  public static final String CURRENT = "CURRENT";

  private ConfigInputs() {}

  /** What an input must be. */
  public enum Kind {
    FILE("file"),
    DIRECTORY("directory"),
    FILE_OR_DIRECTORY("file or directory");

    private final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  /**
   * One configured input.
   *
   * @param key dotted config key, e.g. {@code evaluation.qrels}
   * @param path the path as configured (placeholders filled in), local or any Hadoop URI
   * @param kind file, directory, or either
   * @param requiredFiles names of files a directory must hold (e.g. {@code model.onnx})
   * @param stages the stage commands that read it ({@code chunk}, {@code embed}, {@code build}, {@code tune},
   *     {@code evaluate})
   * @param hint what the input is, appended to a "not found" problem (e.g. {@code (a previous chunks directory)}),
   *     or {@code ""}
   */
  public record Input(String key, String path, Kind kind, List<String> requiredFiles, Set<String> stages,
      String hint) {
    public Input(String key, String path, Kind kind, List<String> requiredFiles, Set<String> stages) {
      this(key, path, kind, requiredFiles, stages, "");
    }
  }

  /** What the check needs from a filesystem. */
  public interface FileSystem {
    /** The type of what is at a path. */
    enum Type { FILE, DIRECTORY }

    /**
     * @return the type of {@code path}, or null when nothing is there
     * @throws IOException when the filesystem cannot answer (no permission, unknown scheme, unreachable store)
     */
    Type type(String path) throws IOException;

    /**
     * Reads a file's first byte, or lists a directory.
     *
     * @throws IOException when it is not readable
     */
    void read(String path, Type type) throws IOException;

    /** {@code parent/name} in this filesystem's syntax. */
    default String child(String parent, String name) {
      return parent.endsWith("/") ? parent + name : parent + "/" + name;
    }
  }

  /** The inputs {@code c} configures (unset optional ones, e.g. no cross-encoder, are left out). */
  public static List<Input> of(QuarryConfig c) {
    List<Input> in = new ArrayList<>();
    add(in, "input.corpus", c.input().corpus(), Kind.FILE_OR_DIRECTORY, List.of(), Set.of("chunk"));
    addReuse(in, "chunking.reuseFrom", c.chunking().reuseFrom(), CHUNKS_COMPLETE, "chunk",
        "a complete chunks directory of an earlier chunk run");
    if ("custom".equals(c.embedding().model())) {
      // the chunks are embedded by embed; queries by tune and evaluate
      add(in, "embedding.modelPath", c.embedding().modelPath(), Kind.DIRECTORY,
          List.of("model.onnx", "tokenizer.json"), Set.of("embed", "tune", "evaluate"));
    }
    addReuse(in, "embedding.reuseFrom", c.embedding().reuseFrom(), EMBEDDINGS_COMPLETE, "embed",
        "a complete embeddings directory of an earlier embed run");
    SegmentsConfig s = c.segments();
    if (s.incremental()) { // build --incremental, compact and index --incremental read the base version
      String index = c.paths().indexDir();
      if (s.base() == null || s.base().isBlank()) {
        in.add(new Input("segments.base", child(index, CURRENT), Kind.FILE, List.of(), Set.of("build"),
            "(segments.base is empty: the base is the version CURRENT names; build and publish a full version "
                + "first, or name the base)"));
      } else {
        in.add(new Input("segments.base", child(index, s.base()), Kind.DIRECTORY, List.of(VERSION_COMPLETE),
            Set.of("build"), "(not a complete index version under " + index + ")"));
      }
    }
    EvaluationConfig e = c.evaluation();
    TuningConfig t = c.tuning();
    boolean tuneReadsEvalQueries = t.enabled() && (t.queries() == null || t.queries().isBlank());
    add(in, "evaluation.queries", e.queries(), Kind.FILE, List.of(),
        tuneReadsEvalQueries ? Set.of("evaluate", "tune") : Set.of("evaluate"));
    add(in, "evaluation.qrels", e.qrels() == null ? null : e.qrelsPath(), Kind.FILE, List.of(), Set.of("evaluate"));
    if (e.hasCrossEncoder() && e.stages().contains("cross-encoder")) {
      add(in, "evaluation.crossEncoder", e.crossEncoder(), Kind.DIRECTORY, List.of("model.onnx", "tokenizer.json"),
          Set.of("evaluate"));
    }
    if (t.enabled()) {
      if (!tuneReadsEvalQueries) {
        add(in, "tuning.queries", t.queries(), Kind.FILE, List.of(), Set.of("tune"));
      }
      add(in, "tuning.qrels", t.qrels(), Kind.FILE, List.of(), Set.of("tune"));
    }
    return in;
  }

  /** The inputs of {@code c} that any of {@code stages} reads. */
  public static List<Input> of(QuarryConfig c, Collection<String> stages) {
    List<Input> out = new ArrayList<>();
    for (Input i : of(c)) {
      if (i.stages().stream().anyMatch(stages::contains)) {
        out.add(i);
      }
    }
    return out;
  }

  /** A {@code reuseFrom} naming a path: {@code ""} (none) and {@code auto} (the stage's own output) name none. */
  private static void addReuse(List<Input> in, String key, String from, String marker, String stage, String what) {
    if (!from.isBlank() && !EmbeddingConfig.REUSE_AUTO.equals(from)) {
      in.add(new Input(key, from, Kind.DIRECTORY, List.of(marker), Set.of(stage), "(" + what + "; \"auto\" for the "
          + "previous content of the stage's output, or \"\" for no reuse)"));
    }
  }

  /** {@code parent/name}. */
  public static String child(String parent, String name) {
    return parent.endsWith("/") ? parent + name : parent + "/" + name;
  }

  private static void add(List<Input> in, String key, String path, Kind kind, List<String> files, Set<String> st) {
    if (path != null && !path.isBlank()) { // a blank required path is a value error of the config itself
      in.add(new Input(key, path, kind, files, st));
    }
  }

  /**
   * Checks every input: it exists, is of its kind, holds its required files, and can be read.
   *
   * @return every problem, each as {@code <key>: <path>: <what is wrong>}; empty when all are usable
   */
  public static List<String> check(List<Input> inputs, FileSystem fs) {
    List<String> problems = new ArrayList<>();
    for (Input i : inputs) {
      String problem = check(i, fs);
      if (problem != null) {
        problems.add(i.key() + ": " + problem);
      }
    }
    return problems;
  }

  private static String check(Input i, FileSystem fs) {
    FileSystem.Type type;
    try {
      type = fs.type(i.path());
    } catch (IOException | RuntimeException e) {
      return i.path() + ": cannot be checked: " + e;
    }
    if (type == null) {
      return i.path() + ": " + i.kind().label + " not found" + (i.hint().isEmpty() ? "" : " " + i.hint());
    }
    if (i.kind() == Kind.FILE && type != FileSystem.Type.FILE) {
      return i.path() + ": is a directory, expected a file";
    }
    if (i.kind() == Kind.DIRECTORY && type != FileSystem.Type.DIRECTORY) {
      return i.path() + ": is a file, expected a directory" + (i.requiredFiles().isEmpty() ? ""
          : " holding " + String.join(" and ", i.requiredFiles()));
    }
    try {
      fs.read(i.path(), type);
    } catch (IOException | RuntimeException e) {
      return i.path() + ": not readable: " + e.getMessage();
    }
    List<String> missing = new ArrayList<>();
    for (String f : i.requiredFiles()) {
      String p = fs.child(i.path(), f);
      try {
        if (fs.type(p) != FileSystem.Type.FILE) {
          missing.add(f);
        } else {
          fs.read(p, FileSystem.Type.FILE);
        }
      } catch (IOException | RuntimeException e) {
        return p + ": not readable: " + e.getMessage();
      }
    }
    return missing.isEmpty() ? null : i.path() + ": no " + String.join(", no ", missing)
        + (i.hint().isEmpty() ? "" : " " + i.hint());
  }
}
