package io.quarry.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every {@code quarry} command answers {@code --help} with its usage and exit 0, before any config or Spark. */
class CliHelpTest {

  @Test
  void everyCommandPrintsItsUsageOnHelp() {
    java.util.Set<String> names = new CommandLine(new QuarryCli()).getSubcommands().keySet();
    assertThat(names).contains("pipeline", "build", "train", "validate-config", "bench-build");
    for (String name : names) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      CommandLine cl = new CommandLine(new QuarryCli());
      cl.setOut(new PrintWriter(out));
      cl.setErr(new PrintWriter(err));
      int rc = cl.execute(name, "--help");
      assertThat(rc).as(name + ": " + err).isZero();
      assertThat(out.toString()).as(name).startsWith("Usage: quarry " + name);
    }
  }
}
