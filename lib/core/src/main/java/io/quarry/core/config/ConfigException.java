package io.quarry.core.config;

import java.util.List;

/**
 * A configuration that cannot be used. Thrown before any work starts; {@link #violations()} lists every problem
 * found (unknown keys, wrong types, out-of-range values, cross-field conflicts), each prefixed with the dotted path
 * of the field it concerns, e.g. {@code quantizer.spec: d=384 is not divisible by M=50}.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final List<String> violations;

  public ConfigException(List<String> violations) {
    super(format(violations));
    this.violations = List.copyOf(violations);
  }

  public List<String> violations() {
    return violations;
  }

  private static String format(List<String> violations) {
    StringBuilder sb = new StringBuilder("invalid configuration (")
        .append(violations.size()).append(violations.size() == 1 ? " problem):" : " problems):");
    for (String v : violations) {
      sb.append("\n  - ").append(v);
    }
    return sb.toString();
  }
}
