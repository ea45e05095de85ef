package io.quarry.core.segment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The id and padding checks that run on every load of a lists file, checksum verification or not; and the blocked
 * copy of the mapped codes that the quantized-table scan reads.
 */
class IvfListsValidationTest {
  @TempDir Path dir;

  IvfListsFile write(int[] list, int[] ids, int codeSize, byte[] codes) throws Exception {
    Path f = dir.resolve("lists-" + System.nanoTime() + ".ivf");
    IvfListsFile.write(f, 0, 3, codeSize, list, ids, codes);
    return IvfListsFile.open(f, 0, true); // the CRC is right: only the content is wrong
  }

  @Test
  void acceptsAPermutationOfTheShardIds() throws Exception {
    IvfListsFile f = write(new int[] {2, 0, 2, 1}, new int[] {1, 3, 2, 0}, 1, new byte[4]);
    assertThatCode(() -> f.validateIds("lists.ivf", 4, 0, 3)).doesNotThrowAnyException();
  }

  @Test
  void rejectsOutOfRangeDuplicateAndUnorderedIds() throws Exception {
    assertThatThrownBy(() -> write(new int[] {0, 1}, new int[] {0, -67}, 1, new byte[2])
        .validateIds("lists.ivf", 2, 0, 3)).isInstanceOf(CorruptIndexFileException.class)
        .hasMessageContaining("lists.ivf").hasMessageContaining("id -67 not in [0, 2)");
    assertThatThrownBy(() -> write(new int[] {0, 1}, new int[] {0, 2}, 1, new byte[2])
        .validateIds("lists.ivf", 2, 0, 3)).hasMessageContaining("id 2 not in [0, 2)");
    assertThatThrownBy(() -> write(new int[] {0, 1}, new int[] {1, 1}, 1, new byte[2])
        .validateIds("lists.ivf", 2, 0, 3)).hasMessageContaining("id 1 appears twice");
    assertThatThrownBy(() -> write(new int[] {0, 0}, new int[] {1, 0}, 1, new byte[2])
        .validateIds("lists.ivf", 2, 0, 3)).hasMessageContaining("not ascending");
    assertThatThrownBy(() -> write(new int[] {0, 0}, new int[] {0, 1}, 1, new byte[2])
        .validateIds("lists.ivf", 3, 0, 3)).hasMessageContaining("2 entries, the shard has 3 chunks");
  }

  @Test
  void rejectsEntriesInListsTheShardDoesNotOwn() throws Exception {
    assertThatThrownBy(() -> write(new int[] {0, 2}, new int[] {0, 1}, 1, new byte[2])
        .validateIds("lists.ivf", 2, 0, 2)).hasMessageContaining("list 2 holds 1 entries but the shard owns lists [0, 2)");
  }

  @Test
  void pqPaddingBitsMustBeZero() throws Exception {
    // PQ3x4: 12 bits in 2 bytes, the top 4 bits of the second byte are padding
    IvfListsFile ok = write(new int[] {0, 1}, new int[] {0, 1}, 2, new byte[] {0x21, 0x03, 0x54, 0x0f});
    assertThatCode(() -> ok.validatePqPadding("lists.ivf", 3, 4)).doesNotThrowAnyException();
    IvfListsFile bad = write(new int[] {0, 1}, new int[] {0, 1}, 2, new byte[] {0x21, 0x03, 0x54, 0x1f});
    assertThatThrownBy(() -> bad.validatePqPadding("lists.ivf", 3, 4)).isInstanceOf(CorruptIndexFileException.class)
        .hasMessageContaining("entry 1: PQ code has non-zero padding bits");
    // byte-aligned codes: every byte value is legal, nothing to check
    assertThatCode(() -> bad.validatePqPadding("lists.ivf", 2, 8)).doesNotThrowAnyException();
  }

  @Test
  void blockedCodesOfAMappedListAreItsCodes() throws Exception {
    int n = 70;
    int m = 4;
    int[] list = new int[n];
    int[] ids = new int[n];
    byte[] codes = new byte[n * m];
    for (int i = 0; i < n; i++) {
      list[i] = i % 3 == 0 ? 1 : 2;
      ids[i] = i;
    }
    new java.util.Random(3).nextBytes(codes);
    IvfListsFile f = write(list, ids, m, codes);
    for (int l = 0; l < 3; l++) {
      var blocked = f.blockedCodes(l);
      assertThat(blocked.size()).isEqualTo(f.size(l));
      assertThat(f.blockedCodes(l)).as("cached").isSameAs(blocked);
      for (int i = 0; i < f.size(l); i++) {
        for (int j = 0; j < m; j++) {
          assertThat(blocked.subCode(i, j)).isEqualTo(f.codes(l).get(i * m + j) & 0xFF);
        }
      }
    }
  }
}
