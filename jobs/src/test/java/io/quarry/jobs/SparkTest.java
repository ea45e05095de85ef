package io.quarry.jobs;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class that starts Spark: a session from {@link SparkTestSupport}, one of its own, or a CLI command that
 * opens one. It carries the JUnit tag {@value #TAG}, which the fast tier ({@code bin/test --fast}, Maven profile
 * {@code fast}) leaves out. Any test that starts a SparkContext without this tag fails ({@link SparkTestGuard}), so a
 * new Spark test cannot end up in the fast tier unnoticed.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Tag(SparkTest.TAG)
public @interface SparkTest {
  /** The JUnit tag of tests that start Spark. */
  String TAG = "spark";
}
