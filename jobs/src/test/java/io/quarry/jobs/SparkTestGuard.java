package io.quarry.jobs;

import org.apache.spark.SparkConf;
import org.apache.spark.scheduler.SparkListener;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails every test that starts a SparkContext without being tagged {@value SparkTest#TAG} ({@link SparkTest}), in
 * every run of the jobs tests (so CI catches a missing tag, and the fast tier never runs Spark).
 *
 * <p>Two halves: this JUnit extension, registered for every test of the module (junit-platform.properties enables
 * extension auto-detection; META-INF/services names it), records which test runs and whether it carries the tag;
 * {@link OnSparkStart}, registered with every SparkContext of the test JVM ({@code spark.extraListeners}, a system
 * property of jobs' surefire configuration, read by every {@link SparkConf}), throws from its constructor, i.e. while
 * the SparkContext starts, when the running test is not tagged.
 */
public final class SparkTestGuard implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback,
    AfterAllCallback {
  /** The running test class or method (JUnit runs the module's tests one at a time), or null between classes. */
  private static volatile String running;
  private static volatile boolean tagged;

  @Override
  public void beforeAll(ExtensionContext context) {
    enter(context);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    enter(context);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    context.getParent().ifPresent(SparkTestGuard::enter);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    running = null;
    tagged = false;
  }

  private static void enter(ExtensionContext context) {
    running = context.getRequiredTestClass().getName()
        + context.getTestMethod().map(m -> "." + m.getName()).orElse("");
    tagged = context.getTags().contains(SparkTest.TAG);
  }

  /** A Spark listener that refuses to let a SparkContext start in a test not tagged {@value SparkTest#TAG}. */
  public static final class OnSparkStart extends SparkListener {
    public OnSparkStart() {
      if (!tagged) {
        throw new IllegalStateException("a SparkContext is starting in " + (running == null ? "no JUnit test (e.g. "
            + "a static initializer)" : running) + ", which is not tagged '" + SparkTest.TAG + "': annotate the "
            + "test class with @io.quarry.jobs.SparkTest (the fast tier, bin/test --fast, leaves those out; "
            + "docs/testing.md)");
      }
    }
  }
}
