package io.quarry.jobs.embed;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.embed.ModelResolver;
import io.quarry.embed.ModelSpec;
import io.quarry.jobs.QuarryCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code quarry models} through the real CLI: the listing, {@code --fetch} of a non-default id, a bad id. */
class ModelsCommandTest {
  private record Result(int exit, String out, String err) {}

  private static Result run(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int code = QuarryCli.run(args);
      return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  /** The listing's row of one model, split on runs of blanks. */
  private static List<String> row(String out, String id) {
    return out.lines().filter(l -> l.startsWith(id + " ")).findFirst().map(l -> Arrays.asList(l.split(" +")))
        .orElseThrow(() -> new AssertionError("no row for " + id + " in\n" + out));
  }

  @Test
  void listsEveryBundledModelWithItsConventionsAndPresence() {
    Result r = run("models");

    assertThat(r.exit()).as(r.err()).isZero();
    for (ModelSpec m : ModelSpec.BUNDLED) {
      List<String> cells = row(r.out(), m.id());
      assertThat(cells.subList(0, 5)).containsExactly(m.id(), "384", m.pooling().code(),
          Integer.toString(m.jarMb()), m.licence());
      assertThat(cells.get(5)).isIn("classpath", "maven-repo", "cache", "no");
    }
    assertThat(row(r.out(), "bge-small-en-v1.5-q").get(5)).isEqualTo("classpath"); // inside the jobs jar
    assertThat(row(r.out(), "e5-small-v2-q")).contains("\"query:", "\"passage:");
    assertThat(r.out()).contains("Represent this sentence for searching relevant passages: ");
  }

  @Test
  void fetchMakesANonDefaultModelPresent() {
    Result r = run("models", "--fetch", "e5-small-v2-q");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(row(r.out(), "e5-small-v2-q").get(5)).isIn("maven-repo", "cache");
    assertThat(r.err()).contains("e5-small-v2-q -> " + ModelResolver.fromEnvironment()
        .findLocal(ModelSpec.bundled("e5-small-v2-q").orElseThrow()).orElseThrow());
  }

  @Test
  void anUnknownIdIsAUsageError() {
    Result r = run("models", "--fetch", "no-such-model");

    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("no-such-model").contains("e5-small-v2-q");
  }
}
