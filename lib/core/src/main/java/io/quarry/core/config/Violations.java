package io.quarry.core.config;

import java.util.ArrayList;
import java.util.List;

/** Collects configuration problems so that all of them are reported at once. */
public final class Violations {
  private final List<String> items = new ArrayList<>();

  /** Records a problem with the field at {@code path} (dotted, e.g. {@code chunking.maxTokens}). */
  public void add(String path, String message) {
    items.add(path + ": " + message);
  }

  /** Records a problem unless {@code ok}. */
  public void check(boolean ok, String path, String message) {
    if (!ok) {
      add(path, message);
    }
  }

  public void positive(long value, String path) {
    check(value > 0, path, "must be > 0, got " + value);
  }

  public void notBlank(String value, String path) {
    check(value != null && !value.isBlank(), path, "must be set");
  }

  public boolean isEmpty() {
    return items.isEmpty();
  }

  public List<String> list() {
    return List.copyOf(items);
  }

  /** @throws ConfigException listing every recorded problem, if there is any */
  public void throwIfAny() {
    if (!items.isEmpty()) {
      throw new ConfigException(items);
    }
  }
}
