package io.quarry.core.config;

/** Renders set constants the way the validation messages do (Set iteration order is unspecified). */
final class QuarryConfigTestSupport {
  private QuarryConfigTestSupport() {}

  static String metricsSet() {
    return QuantizerConfig.METRICS.toString();
  }
}
