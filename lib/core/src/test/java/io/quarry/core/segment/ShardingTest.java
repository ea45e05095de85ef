package io.quarry.core.segment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ShardingTest {
  @Test
  void hashShardIsStableAndInRange() {
    // CRC32("doc-1") = 0xf2b0ee69 (zlib / java.util.zip.CRC32) = 4071681641, mod 4 = 1, mod 7 = 4071681641 % 7
    assertThat(Sharding.hashShard("doc-1", 4)).isEqualTo(1);
    assertThat(Sharding.hashShard("doc-1", 7)).isEqualTo((int) (4071681641L % 7));
    int[] counts = new int[4];
    for (int i = 0; i < 4000; i++) {
      counts[Sharding.hashShard("d" + i, 4)]++;
    }
    for (int c : counts) {
      assertThat(c).isBetween(800, 1200);
    }
  }

  @Test
  void ivfBoundsAreContiguousBalancedAndNonEmpty() {
    long[] sizes = {10, 10, 10, 10, 100, 10, 10, 10};
    int[] b = Sharding.ivfBounds(sizes, 3);
    assertThat(b[0]).isZero();
    assertThat(b[3]).isEqualTo(8);
    for (int s = 0; s < 3; s++) {
      assertThat(b[s + 1]).isGreaterThan(b[s]);
    }
    // the big list gets a shard of its own neighbourhood; no shard is empty of lists
    assertThat(Sharding.ivfShard(b, 4)).isEqualTo(1);
    for (int l = 0; l < 8; l++) {
      int s = Sharding.ivfShard(b, l);
      assertThat(l).isGreaterThanOrEqualTo(b[s]).isLessThan(b[s + 1]);
    }
    assertThat(Sharding.ivfBounds(new long[] {0, 0, 0}, 3)).containsExactly(0, 1, 2, 3);
    assertThatThrownBy(() -> Sharding.ivfBounds(sizes, 9)).hasMessageContaining("shards <= nlist");
  }
}
