package io.quarry.core.search.fusion;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The parameters of one fusion text form ({@code head:param,param,...}): {@code k=<int>}, {@code alpha=<number>} and
 * a normalization name ({@code minmax}, {@code zscore}, {@code tmm}). Which ones a method takes comes from its {@link
 * FusionMethod} descriptor; any other parameter is refused here, so every method parses alike. A repeated parameter:
 * the last one counts.
 */
public final class FusionParams {
  private final String text;
  private final FusionMethod method;
  private final Map<String, String> values = new LinkedHashMap<>();
  private Normalization normalization;

  /**
   * @param text the whole text form (for messages)
   * @param method the method named by its head
   * @param params the parameters after the head, trimmed and lower-case, without {@code level}
   * @throws IllegalArgumentException for a parameter the method does not take
   */
  public FusionParams(String text, FusionMethod method, List<String> params) {
    this.text = text;
    this.method = method;
    for (String p : params) {
      int eq = p.indexOf('=');
      String key = eq < 0 ? p : p.substring(0, eq).trim();
      String val = eq < 0 ? null : p.substring(eq + 1).trim();
      Normalization n = Normalization.ofText(key);
      if (n != null) {
        if (!method.normalizations().contains(n)) {
          throw error(method.takesNormalization() ? method.name() + " takes normalization "
              + FusionMethods.texts(method.normalizations()) : "normalization is for " + takers() + " only");
        }
        normalization = n;
      } else if ("k".equals(key) && !method.takesK() || "alpha".equals(key) && !method.takesAlpha()) {
        throw error(method.name() + " has no " + key + hint(key));
      } else if ("k".equals(key) || "alpha".equals(key)) {
        values.put(key, val);
      } else {
        throw error("unknown parameter '" + key + "'");
      }
    }
  }

  /** The RRF constant, or {@code def} if not given. */
  public int k(int def) {
    if (!values.containsKey("k")) {
      return def;
    }
    try {
      return Integer.parseInt(values.get("k"));
    } catch (NumberFormatException e) {
      throw error("bad value for k");
    }
  }

  /** The dense weight, or {@code def} if not given. */
  public double alpha(double def) {
    if (!values.containsKey("alpha")) {
      return def;
    }
    String v = values.get("alpha");
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException | NullPointerException e) {
      throw error("bad value for alpha");
    }
  }

  /** The normalization, or {@code def} if not given. */
  public Normalization normalization(Normalization def) {
    return normalization == null ? def : normalization;
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException("fusion '" + text + "': " + what);
  }

  private String takers() {
    return String.join(", ", FusionMethods.all().stream().filter(FusionMethod::takesNormalization)
        .map(FusionMethod::name).toList());
  }

  private String hint(String key) {
    List<String> with = FusionMethods.all().stream().filter(m -> "k".equals(key) ? m.takesK() : m.takesAlpha())
        .map(FusionMethod::name).toList();
    return " (" + String.join(", ", with) + " have)";
  }

  /** Checks an RRF constant. @throws IllegalArgumentException unless {@code k >= 1} */
  static int checkK(int k) {
    if (k < 1) {
      throw new IllegalArgumentException("fusion rrf k must be >= 1, got " + k);
    }
    return k;
  }

  /** Checks a dense weight. @throws IllegalArgumentException unless {@code 0 <= alpha <= 1} */
  static double checkAlpha(double alpha) {
    if (!(alpha >= 0 && alpha <= 1)) {
      throw new IllegalArgumentException("fusion alpha must be in [0, 1], got " + alpha);
    }
    return alpha;
  }

  /** Checks that a method takes a normalization. @throws IllegalArgumentException naming the accepted ones */
  static Normalization checkNormalization(FusionMethod m, Normalization n) {
    if (n == null || !m.normalizations().contains(n)) {
      throw new IllegalArgumentException(m.name() + " fusion needs a normalization ("
          + FusionMethods.texts(m.normalizations()) + ")");
    }
    return n;
  }

  /** A weight in text form: up to 4 decimals, trailing zeros dropped but one ({@code 0.7}, {@code 1.0}). */
  static String format(double a) {
    String s = String.format(Locale.ROOT, "%.4f", a);
    s = s.replaceAll("0+$", "");
    return s.endsWith(".") ? s + "0" : s;
  }

  /** A weight as a tuning axis value, {@code alpha=0.70}. */
  static String alphaAxis(double a) {
    return String.format(Locale.ROOT, "alpha=%.2f", a);
  }
}
