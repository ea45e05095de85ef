package io.quarry.core.eval;

import java.util.SplittableRandom;

/**
 * Paired significance tests over per-query differences {@code d_i = current_i − baseline_i}, both two-sided.
 *
 * <ul>
 *   <li>Paired Student t-test: {@code t = mean(d) / (sd(d) / √n)}, {@code n − 1} degrees of freedom; the p-value
 *       comes from the regularized incomplete beta function, {@code p = I_{df/(df+t²)}(df/2, 1/2)} (Press et al.,
 *       Numerical Recipes, 3rd ed., §6.4 and §14.2).
 *   <li>Paired randomization (permutation) test: under the null hypothesis each difference's sign is exchangeable;
 *       {@code p = (1 + #{permutations with |mean| ≥ |observed mean|}) / (1 + permutations)} with random sign flips
 *       drawn from a seeded generator (Fisher; Smucker, Allan and Carterette, "A comparison of statistical
 *       significance tests for information retrieval evaluation", CIKM 2007).
 * </ul>
 */
public final class PairedTests {
  private PairedTests() {}

  /**
   * Two-sided p-value of the paired t-test. Returns 1 when every difference is 0, 0 when all differences are
   * equal and non-zero (zero variance), and NaN for fewer than 2 pairs.
   */
  public static double tTest(double[] d) {
    int n = d.length;
    if (n < 2) {
      return Double.NaN;
    }
    double mean = 0;
    for (double x : d) {
      mean += x;
    }
    mean /= n;
    double ss = 0;
    for (double x : d) {
      ss += (x - mean) * (x - mean);
    }
    double sd = Math.sqrt(ss / (n - 1));
    if (sd == 0) {
      return mean == 0 ? 1.0 : 0.0;
    }
    double t = mean / (sd / Math.sqrt(n));
    return studentTwoSided(t, n - 1);
  }

  /** Two-sided tail probability {@code P(|T| ≥ |t|)} of Student's t with {@code df} degrees of freedom. */
  public static double studentTwoSided(double t, double df) {
    return regularizedBeta(df / (df + t * t), df / 2, 0.5);
  }

  /**
   * Two-sided p-value of the paired randomization test with {@code permutations} random sign flips.
   *
   * @throws IllegalArgumentException if {@code permutations < 1}
   */
  public static double randomization(double[] d, int permutations, long seed) {
    if (permutations < 1) {
      throw new IllegalArgumentException("permutations must be >= 1, got " + permutations);
    }
    if (d.length == 0) {
      return Double.NaN;
    }
    double observed = 0;
    for (double x : d) {
      observed += x;
    }
    observed = Math.abs(observed);
    SplittableRandom rnd = new SplittableRandom(seed);
    int atLeast = 0;
    double eps = 1e-12 * Math.max(1, observed);
    for (int p = 0; p < permutations; p++) {
      double s = 0;
      for (double x : d) {
        s += rnd.nextBoolean() ? x : -x;
      }
      if (Math.abs(s) >= observed - eps) {
        atLeast++;
      }
    }
    return (1.0 + atLeast) / (1.0 + permutations);
  }

  /** Regularized incomplete beta {@code I_x(a, b)} by Lentz's continued fraction (Numerical Recipes §6.4). */
  static double regularizedBeta(double x, double a, double b) {
    if (x <= 0) {
      return 0;
    }
    if (x >= 1) {
      return 1;
    }
    double lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
    if (x < (a + 1) / (a + b + 2)) {
      return Math.exp(lnFront) * betaCf(x, a, b) / a;
    }
    return 1 - Math.exp(lnFront) * betaCf(1 - x, b, a) / b;
  }

  private static double betaCf(double x, double a, double b) {
    final double tiny = 1e-300;
    double qab = a + b;
    double qap = a + 1;
    double qam = a - 1;
    double c = 1;
    double d = 1 - qab * x / qap;
    if (Math.abs(d) < tiny) {
      d = tiny;
    }
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10_000; m++) {
      int m2 = 2 * m;
      double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
      d = 1 + aa * d;
      d = Math.abs(d) < tiny ? tiny : d;
      c = 1 + aa / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      h *= d * c;
      aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
      d = 1 + aa * d;
      d = Math.abs(d) < tiny ? tiny : d;
      c = 1 + aa / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      double del = d * c;
      h *= del;
      if (Math.abs(del - 1) < 1e-15) {
        break;
      }
    }
    return h;
  }

  /** ln Γ(x) for x &gt; 0 (Lanczos approximation, g = 7, n = 9; relative error below 1e-15). */
  static double lnGamma(double x) {
    final double[] c = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
        1.5056327351493116e-7};
    if (x < 0.5) {
      return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
    }
    x -= 1;
    double a = c[0];
    double t = x + 7.5;
    for (int i = 1; i < 9; i++) {
      a += c[i] / (x + i);
    }
    return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
  }
}
