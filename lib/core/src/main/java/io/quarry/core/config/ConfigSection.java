package io.quarry.core.config;

/**
 * A section of {@link QuarryConfig}: a record whose per-field checks report to a {@link Violations}. Serializable,
 * so that Spark closures can carry the sections they need to the executors.
 */
public interface ConfigSection extends java.io.Serializable {
  /**
   * Adds a violation for each invalid field.
   *
   * @param path dotted path of this section in the config, e.g. {@code chunking}
   */
  void validate(String path, Violations v);
}
