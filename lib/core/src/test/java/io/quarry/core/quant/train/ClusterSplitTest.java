package io.quarry.core.quant.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.component.ProductQuantizer;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * FAISS's handling of empty clusters ({@code faiss/Clustering.cpp split_clusters}) in every k-means: {@link Lloyd},
 * the PQ passes ({@link PqLloydStats}, {@link PqTraining}), the in-memory {@link KMeans} and the IVF re-seeding
 * ({@link CoarseStats}).
 */
class ClusterSplitTest {

  @Test
  void splitCopiesALargeClusterAndPerturbsBothSymmetrically() {
    int d = 3;
    float[] c = {9, 9, 9, 1.5f, -2f, 4f, 7, 7, 7};
    long[] counts = {0, 10, 1}; // a one-point cluster is never picked: cluster 1 is the only candidate
    int n = Lloyd.split(c, 0, 3, d, counts, 0, 11, new SplittableRandom(5));
    assertThat(n).isEqualTo(1);
    double eps = 1.0 / 1024;
    assertThat(new float[] {c[0], c[1], c[2]}).containsExactly((float) (1.5f * (1 + eps)),
        (float) (-2f * (1 - eps)), (float) (4f * (1 + eps)));
    assertThat(new float[] {c[3], c[4], c[5]}).containsExactly((float) (1.5f * (1 - eps)),
        (float) (-2f * (1 + eps)), (float) (4f * (1 - eps)));
    assertThat(new float[] {c[6], c[7], c[8]}).containsExactly(7, 7, 7);
    assertThat(counts).containsExactly(0, 10, 1); // the caller's sizes are not modified
    assertThat(Lloyd.split(c, 0, 3, d, new long[] {3, 4, 4}, 0, 11, new SplittableRandom(5))).isZero();
  }

  /** Two blobs in 2-d and a codeword far from both: the first pass provably leaves it empty. */
  @Test
  void pqLloydSplitsTheEmptyCodewordAndEndsWithEveryCodewordUsed() {
    int n = 400;
    float[] x = new float[n * 2];
    Random rnd = new Random(3);
    for (int i = 0; i < n; i++) {
      float cx = i % 2 == 0 ? 0f : 10f;
      x[2 * i] = cx + (float) rnd.nextGaussian();
      x[2 * i + 1] = (float) rnd.nextGaussian();
    }
    // ksub = 4: codewords at the two blobs, one near blob 0, one at (100, 100) that no point is nearest to
    float[] init = {0, 0, 10, 0, 0.5f, 0.5f, 100, 100};
    ProductQuantizer pq = new ProductQuantizer(1, 2, 2, init);
    PqLloydStats first = new PqLloydStats(1, 4, 2).addBatch(x, n, pq);
    PqLloydStats.Update u = first.update(pq.codebooks(), new SplittableRandom(1));
    assertThat(u.splits()).isEqualTo(1);
    assertThat(u.codebooks()[6]).isLessThan(20f); // no longer the stale (100, 100)

    PqTraining.Passes data = PqTraining.inMemory(List.of(x), new int[] {n}, 2, 128, null);
    PqTraining.PqResult res = PqTraining.lloyd(data, null, pq, 10, 0, new SplittableRandom(1));
    assertThat(res.splits()).isGreaterThanOrEqualTo(1);
    int[] codes = new int[n];
    res.pq().subCodes(x, n, codes);
    long[] used = new long[4];
    for (int code : codes) {
      used[code]++;
    }
    assertThat(used).doesNotContain(0L);
    // reproducible: the same seed gives the same codebooks
    PqTraining.PqResult again = PqTraining.lloyd(data, null, pq, 10, 0, new SplittableRandom(1));
    assertThat(again.pq().codebooks()).containsExactly(res.pq().codebooks());
  }

  /** Two distinct points repeated, k = 3: k-means++ must seed a duplicate, whose cluster is empty (ties go low). */
  @Test
  void kMeansCountsItsSplits() {
    int n = 60;
    float[] x = new float[n * 2];
    for (int i = 0; i < n; i++) {
      x[2 * i] = i % 2 == 0 ? 1f : 5f;
      x[2 * i + 1] = i % 3 == 0 ? 2f : 2f;
    }
    KMeans.Result r = KMeans.train(x, n, 2, 3, 5, 0, 11);
    assertThat(r.splits()).isPositive();
    assertThat(KMeans.train(x, n, 2, 3, 5, 0, 11).centroids()).containsExactly(r.centroids());
  }

  @Test
  void coarseStatsFindEmptyListsAndTheSplitFillsThem() {
    int n = 300;
    float[] x = new float[n * 2];
    Random rnd = new Random(9);
    for (int i = 0; i < n; i++) {
      x[2 * i] = (i % 3) * 5f + (float) rnd.nextGaussian() * 0.5f;
      x[2 * i + 1] = (float) rnd.nextGaussian() * 0.5f;
    }
    // three lists at the blobs, one far away (empty)
    CoarseQuantizer coarse = CoarseQuantizer.ivf(new float[] {0, 0, 5, 0, 10, 0, -50, 40}, 4, 2);
    CoarseStats s = new CoarseStats(4).addBatch(x, n, coarse, null);
    assertThat(s.emptyLists()).isEqualTo(1);
    assertThat(s.count()).isEqualTo(n);
    float[] split = s.split(coarse, new SplittableRandom(2));
    CoarseStats after = new CoarseStats(4).addBatch(x, n, CoarseQuantizer.ivf(split, 4, 2), null);
    assertThat(after.emptyLists()).isZero();
    assertThat(after.mse()).isLessThanOrEqualTo(s.mse() * 1.001);
    assertThat(new CoarseStats(4).addBatch(x, n, CoarseQuantizer.ivf(split, 4, 2), null).split(
        CoarseQuantizer.ivf(split, 4, 2), new SplittableRandom(2))).isNull();
  }

  /** A Lloyd step from {@link CoarseStats} with sums: the means of the lists, and the far-away empty list split. */
  @Test
  void coarseLloydStepTakesTheMeansAndSplitsTheEmptyList() {
    float[] x = {0, 0, 2, 0, 10, 0, 12, 0, 11, 1};
    CoarseQuantizer coarse = CoarseQuantizer.ivf(new float[] {1, 0, 11, 0, -50, 40}, 3, 2);
    CoarseStats s = new CoarseStats(3, 2).addBatch(x, 5, coarse, null);
    CoarseStats.Update u = s.update(coarse, new SplittableRandom(4));
    assertThat(u.splits()).isEqualTo(1);
    float[] c = u.centroids();
    // list 0 = mean of (0,0),(2,0) = (1,0); list 1 = mean of the three = (11, 1/3); the empty list 2 is a copy of
    // list 0 or 1 (both can be split: sizes 2 and 3), perturbed by ±1/1024 with its source
    boolean from0 = c[4] == (float) (1 * (1 + Lloyd.EPS));
    if (from0) {
      assertThat(new float[] {c[0], c[1], c[2], c[3]}).containsExactly((float) (1 * (1 - Lloyd.EPS)), 0f, 11f,
          (float) (1.0 / 3));
    } else {
      assertThat(c[4]).isEqualTo((float) (11 * (1 + Lloyd.EPS)));
      assertThat(c[5]).isEqualTo((float) ((float) (1.0 / 3) * (1 - Lloyd.EPS)));
      assertThat(new float[] {c[0], c[1]}).containsExactly(1f, 0f);
    }
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new CoarseStats(3).update(coarse,
        new SplittableRandom(1))).isInstanceOf(IllegalStateException.class);
  }
}
