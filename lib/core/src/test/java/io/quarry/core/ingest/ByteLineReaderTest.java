package io.quarry.core.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ByteLineReaderTest {
  private static String s(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void splitsLinesKeepsEmptyOnesAndDropsCr() throws Exception {
    ByteLineReader r = new ByteLineReader(new ByteArrayInputStream("a\r\n\nbc\nlast".getBytes()), 100);
    assertThat(s(r.next())).isEqualTo("a");
    assertThat(r.lineNumber()).isEqualTo(1);
    assertThat(s(r.next())).isEqualTo("");
    assertThat(s(r.next())).isEqualTo("bc");
    assertThat(s(r.next())).isEqualTo("last");
    assertThat(r.lineNumber()).isEqualTo(4);
    assertThat(r.next()).isNull();
  }

  @Test
  void trailingNewlineDoesNotAddALine() throws Exception {
    ByteLineReader r = new ByteLineReader(new ByteArrayInputStream("x\n".getBytes()), 100);
    assertThat(s(r.next())).isEqualTo("x");
    assertThat(r.next()).isNull();
  }

  @Test
  void overlongLinesAreCutAndFlagged() throws Exception {
    byte[] big = ("y".repeat(200_000) + "\nok\n").getBytes();
    ByteLineReader r = new ByteLineReader(new ByteArrayInputStream(big), 10);
    assertThat(r.next()).hasSize(10);
    assertThat(r.lastLineTruncated()).isTrue();
    assertThat(r.lastLineLength()).isEqualTo(200_000);
    assertThat(s(r.next())).isEqualTo("ok");
    assertThat(r.lastLineTruncated()).isFalse();
    assertThat(r.lineNumber()).isEqualTo(2);
  }
}
