package io.quarry.core.chunk;

import java.util.Arrays;

/**
 * Character spans of the tokens of one text: token {@code i} covers {@code text.substring(start(i), end(i))}.
 * Offsets are UTF-16 char indices (Java {@code String} indices), end exclusive, non-decreasing in {@code i}.
 */
public final class TokenSpans {
  private final int[] starts;
  private final int[] ends;

  /**
   * @param starts start offset of each token (n)
   * @param ends end offset (exclusive) of each token (n)
   * @throws IllegalArgumentException if the arrays differ in length or a span is inverted
   */
  public TokenSpans(int[] starts, int[] ends) {
    if (starts.length != ends.length) {
      throw new IllegalArgumentException("starts has " + starts.length + " entries, ends has " + ends.length);
    }
    for (int i = 0; i < starts.length; i++) {
      if (starts[i] < 0 || ends[i] < starts[i]) {
        throw new IllegalArgumentException("token " + i + " has invalid span [" + starts[i] + ", " + ends[i] + ")");
      }
    }
    this.starts = starts;
    this.ends = ends;
  }

  public static TokenSpans empty() {
    return new TokenSpans(new int[0], new int[0]);
  }

  public int size() {
    return starts.length;
  }

  public int start(int i) {
    return starts[i];
  }

  public int end(int i) {
    return ends[i];
  }

  /** Index of the first token whose end is &gt; {@code charOffset} (i.e. not entirely before it); size() if none. */
  public int firstTokenEndingAfter(int charOffset) {
    int lo = 0;
    int hi = starts.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (ends[mid] <= charOffset) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  @Override
  public String toString() {
    return "TokenSpans" + Arrays.toString(starts) + Arrays.toString(ends);
  }
}
