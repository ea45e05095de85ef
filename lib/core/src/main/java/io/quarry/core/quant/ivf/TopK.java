package io.quarry.core.quant.ivf;

import io.quarry.core.quant.Neighbor;
import java.util.ArrayList;
import java.util.List;

/**
 * Bounded selection of the {@code k} best {@code (id, score)} pairs with a total order: higher score first, then lower
 * id. The result therefore does not depend on the order candidates are offered in. Binary min-heap over two parallel
 * arrays (no boxing). Not thread-safe.
 */
public final class TopK {
  private final int k;
  private final float[] scores;
  private final int[] ids;
  private int size;

  /**
   * @param k capacity, ≥ 1
   * @throws IllegalArgumentException when {@code k < 1}
   */
  public TopK(int k) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be >= 1, got " + k);
    }
    this.k = k;
    this.scores = new float[k];
    this.ids = new int[k];
  }

  /** True when (s1, id1) ranks below (s2, id2). */
  private static boolean worse(float s1, int id1, float s2, int id2) {
    return s1 < s2 || (s1 == s2 && id1 > id2);
  }

  /** The capacity {@code k}. */
  public int capacity() {
    return k;
  }

  /** The score a candidate must beat to enter once full ({@code -∞} before). */
  public float threshold() {
    return size < k ? Float.NEGATIVE_INFINITY : scores[0];
  }

  /** Offers a candidate. */
  public void offer(int id, float score) {
    if (size < k) {
      int i = size++;
      scores[i] = score;
      ids[i] = id;
      while (i > 0) {
        int p = (i - 1) >>> 1;
        if (worse(scores[i], ids[i], scores[p], ids[p])) {
          swap(i, p);
          i = p;
        } else {
          break;
        }
      }
    } else if (worse(scores[0], ids[0], score, id)) {
      scores[0] = score;
      ids[0] = id;
      int i = 0;
      while (true) {
        int l = 2 * i + 1;
        int r = l + 1;
        int w = i;
        if (l < size && worse(scores[l], ids[l], scores[w], ids[w])) {
          w = l;
        }
        if (r < size && worse(scores[r], ids[r], scores[w], ids[w])) {
          w = r;
        }
        if (w == i) {
          break;
        }
        swap(i, w);
        i = w;
      }
    }
  }

  private void swap(int a, int b) {
    float s = scores[a];
    scores[a] = scores[b];
    scores[b] = s;
    int t = ids[a];
    ids[a] = ids[b];
    ids[b] = t;
  }

  /** The selected pairs, best first. */
  public List<Neighbor> result() {
    List<Neighbor> out = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      out.add(new Neighbor(ids[i], scores[i]));
    }
    out.sort((a, b) -> a.score() != b.score() ? Float.compare(b.score(), a.score()) : Integer.compare(a.id(), b.id()));
    return out;
  }
}
