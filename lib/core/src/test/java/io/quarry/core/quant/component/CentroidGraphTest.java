package io.quarry.core.quant.component;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The HNSW probe over the IVF centroids ({@link CentroidGraph}, {@link CoarseQuantizer#probeGraph}): finds nearly all
 * of the flat probe's lists, in the flat order, deterministically; below the threshold {@link CoarseQuantizer#probe}
 * is the flat scan.
 */
class CentroidGraphTest {
  private static final int D = 48;

  /** {@code n × D} unit vectors around 64 seeded centres (centroid- and query-like). */
  private static float[] clustered(int n, long seed, float[] centres) {
    Random rnd = new Random(seed);
    float[] x = new float[n * D];
    for (int i = 0; i < n; i++) {
      int c = rnd.nextInt(centres.length / D);
      double norm = 0;
      for (int t = 0; t < D; t++) {
        float v = centres[c * D + t] + 0.5f * (float) rnd.nextGaussian();
        x[i * D + t] = v;
        norm += v * v;
      }
      for (int t = 0; t < D; t++) {
        x[i * D + t] /= (float) Math.sqrt(norm);
      }
    }
    return x;
  }

  private static float[] centres() {
    Random rnd = new Random(7);
    float[] c = new float[64 * D];
    for (int i = 0; i < c.length; i++) {
      c[i] = (float) rnd.nextGaussian();
    }
    return c;
  }

  @Test
  void graphProbeFindsTheFlatProbesListsInFlatOrderAndIsDeterministic() {
    float[] centres = centres();
    int nlist = 4096;
    CoarseQuantizer a = CoarseQuantizer.ivf(clustered(nlist, 1, centres), nlist, D);
    float[] c = a.centroids();
    // two independent builds from the same centroids and seed: the same graph, so the same candidates
    CentroidGraph g1 = CentroidGraph.build(c, nlist, D, CentroidGraph.DEFAULT_SEED);
    CentroidGraph g2 = CentroidGraph.build(c.clone(), nlist, D, CentroidGraph.DEFAULT_SEED);
    assertThat(CentroidGraph.shared(c.clone(), nlist, D, CentroidGraph.DEFAULT_SEED))
        .as("equal centroids share one graph").isSameAs(CentroidGraph.shared(c, nlist, D, CentroidGraph.DEFAULT_SEED));
    int nq = 300;
    float[] q = clustered(nq, 2, centres);
    int nprobe = 16;
    long found = 0;
    long foundSmallEf = 0;
    for (int i = 0; i < nq; i++) {
      float[] x = Arrays.copyOfRange(q, i * D, (i + 1) * D);
      int[] flat = a.probeFlat(x, nprobe);
      int[] graph = a.probeGraph(x, nprobe, 128);
      assertThat(g2.search(x, 128)).as("same centroids, seed → same graph and result").isEqualTo(g1.search(x, 128));
      assertThat(graph).hasSize(nprobe).doesNotHaveDuplicates();
      Set<Integer> truth = new HashSet<>();
      for (int l : flat) {
        truth.add(l);
      }
      int[] common = Arrays.stream(graph).filter(truth::contains).toArray();
      found += common.length;
      // the lists both found appear in the flat probe's order (same key, same tie rule)
      int[] flatCommon = Arrays.stream(flat).filter(l -> Arrays.stream(graph).anyMatch(g -> g == l)).toArray();
      assertThat(common).isEqualTo(flatCommon);
      // nearest list: the graph's distance equals the flat scan's bits whenever it found it
      if (graph[0] == flat[0]) {
        assertThat(a.distance(x, graph[0])).isEqualTo(a.distance(x, flat[0]));
      }
      foundSmallEf += Arrays.stream(a.probeGraph(x, nprobe, 1)).filter(truth::contains).count();
    }
    double recall = found / (double) (nq * nprobe);
    assertThat(recall).as("fraction of the flat probe's lists found, ef 128").isGreaterThanOrEqualTo(0.99);
    // a beam of nprobe (ef 1 is raised to nprobe) finds fewer: the beam matters, the test can tell
    assertThat(foundSmallEf).isLessThanOrEqualTo(found);
  }

  @Test
  void probeIsTheFlatScanBelowTheThresholdAndAssignAgreesWithProbe() {
    float[] centres = centres();
    int nlist = 512;
    CoarseQuantizer cq = CoarseQuantizer.ivf(clustered(nlist, 3, centres), nlist, D);
    assertThat(CoarseQuantizer.graphMinNlist()).isEqualTo(CoarseQuantizer.DEFAULT_GRAPH_MIN_NLIST);
    assertThat(cq.usesGraph()).isFalse();
    float[] q = clustered(50, 4, centres);
    for (int i = 0; i < 50; i++) {
      float[] x = Arrays.copyOfRange(q, i * D, (i + 1) * D);
      assertThat(cq.probe(x, 8)).isEqualTo(cq.probeFlat(x, 8));
      assertThat(cq.probe(x, 1)[0]).isEqualTo(cq.assign(x));
    }
  }

  @Test
  void atTheThresholdProbeAndAssignUseTheGraph() {
    int nlist = CoarseQuantizer.DEFAULT_GRAPH_MIN_NLIST;
    float[] centres = centres();
    CoarseQuantizer cq = CoarseQuantizer.ivf(clustered(nlist, 5, centres), nlist, D);
    assertThat(cq.usesGraph()).isTrue();
    float[] q = clustered(40, 6, centres);
    int[] lists = new int[40];
    cq.assign(q, 40, lists);
    long same = 0;
    for (int i = 0; i < 40; i++) {
      float[] x = Arrays.copyOfRange(q, i * D, (i + 1) * D);
      int[] p = cq.probe(x, 32);
      assertThat(p).isEqualTo(cq.probeGraph(x, 32, CoarseQuantizer.graphBeam(32)));
      assertThat(lists[i]).isEqualTo(cq.probeGraph(x, 1, CoarseQuantizer.graphBeam(1))[0]);
      same += lists[i] == cq.probeFlat(x, 1)[0] ? 1 : 0;
    }
    assertThat(same).as("graph assignment = exact nearest list").isGreaterThanOrEqualTo(39);
    // a beam of nlist or more: the exact scan, so nprobe = nlist still returns every list in flat order
    float[] x0 = Arrays.copyOf(q, D);
    assertThat(cq.probe(x0, nlist)).isEqualTo(cq.probeFlat(x0, nlist));
    assertThat(cq.probe(x0, nlist / 4)).isEqualTo(cq.probeFlat(x0, nlist / 4));
  }
}
