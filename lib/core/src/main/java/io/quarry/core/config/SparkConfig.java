package io.quarry.core.config;

import java.util.Map;

/**
 * Spark settings used when a job is started outside {@code spark-submit} (the quick-start launcher, tests).
 * Under {@code spark-submit}, the master and any {@code --conf} given there win over these.
 *
 * @param master Spark master URL used when none is set, e.g. {@code local[*]}
 * @param conf extra Spark properties applied when not already set
 */
public record SparkConfig(String master, Map<String, String> conf) implements ConfigSection {
  public SparkConfig {
    conf = conf == null ? Map.of() : Map.copyOf(conf);
  }

  @Override
  public void validate(String path, Violations v) {
    v.notBlank(master, path + ".master");
  }
}
