package io.quarry.jobs.eval;

import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.QuarryConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Option;

/**
 * The config options of the commands that only read evaluation files ({@code compare}, {@code report}): config files
 * (any Hadoop URI) and {@code --set} overrides, loaded without Spark.
 */
final class FileCommandConfig {
  @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Config file(s), lowest precedence first.")
  List<String> configFiles = new ArrayList<>();

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one config value.")
  List<String> overrides = new ArrayList<>();

  /**
   * The resolved config.
   *
   * @throws io.quarry.core.eval.EvalInputException when a config file is missing
   * @throws io.quarry.core.config.ConfigException when the config is invalid
   */
  QuarryConfig load(Configuration hconf) throws IOException {
    List<ConfigLoader.Source> sources = new ArrayList<>();
    for (String f : configFiles) {
      sources.add(new ConfigLoader.Source(f, CompareCommand.read(hconf, f)));
    }
    return ConfigLoader.load(sources, overrides);
  }
}
