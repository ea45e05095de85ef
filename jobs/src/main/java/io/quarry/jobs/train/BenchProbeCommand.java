package io.quarry.jobs.train;

import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.component.CentroidGraph;
import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.format.QuantizerFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code quarry bench-probe}: the coarse probe at large nlist, on one thread (Spark-free). For each nlist, the exact
 * flat probe ({@link CoarseQuantizer#probeFlat}: all nlist centroids) against the HNSW probe ({@link
 * CoarseQuantizer#probeGraph} over a {@link CentroidGraph}) for each nprobe and efSearch: milliseconds per query and
 * the fraction of the flat probe's nprobe lists the graph probe returns (its recall; issue 23's target ≥ 0.99 at
 * nlist 65,536, nprobe 64, ≤ 1 ms per query). Prints one Markdown row per (nlist, nprobe, efSearch) and the graph's
 * build time; with {@code --assign N}, a second table of batch assignment to the nearest list (what the encode and
 * the trainer's list counting do): graph vs exact flat scan through MLlib's BLAS, µs per vector and agreement.
 *
 * <p>Centroids: with {@code --quantizer}, the IVF centroids of a trained {@code quantizer.bin} (real k-means
 * centroids; queries are the synthetic generator's vectors after the model's rotation); otherwise {@code nlist}
 * vectors of {@code bench-train}'s generator (seeded clustered unit vectors, {@link SyntheticVectors#vector}) stand
 * for the centroids: single points rather than means of ~256, so their spread within a cluster is larger than real
 * centroids' (a harder case for the graph). Queries are generator vectors with ids after the centroids'.
 */
@Command(name = "bench-probe", mixinStandardHelpOptions = true,
    description = "Coarse probe benchmark: flat scan vs HNSW graph over the IVF centroids (one thread).")
public final class BenchProbeCommand implements Callable<Integer> {

  @Option(names = "--nlist", split = ",", description = "Centroid counts (default: ${DEFAULT-VALUE}).")
  List<Integer> nlists = List.of(16_384, 65_536);

  @Option(names = "--nprobe", split = ",", description = "nprobe values (default: ${DEFAULT-VALUE}).")
  List<Integer> nprobes = List.of(16, 64);

  @Option(names = "--ef", split = ",", description = "Graph search beams efSearch (at least nprobe is used; default: "
      + "${DEFAULT-VALUE}).")
  List<Integer> efs = List.of(64, 128, 256);

  @Option(names = "--default-beam", negatable = true, description = "Also a row with the beam the searcher uses, "
      + "max(efSearch, 4 · nprobe) (CoarseQuantizer.graphBeam; default: ${DEFAULT-VALUE}).")
  boolean defaultBeam = true;

  @Option(names = "--d", description = "Dimension of the synthetic centroids (default: ${DEFAULT-VALUE}).") int d = 384;

  @Option(names = "--clusters", description = "Gaussian clusters of the generator (default: ${DEFAULT-VALUE}).")
  int clusters = 1000;

  @Option(names = "--queries", description = "Queries (default: ${DEFAULT-VALUE}).") int queries = 1000;

  @Option(names = "--seed") long seed = 42;

  @Option(names = "--assign", description = "Vectors of the batch-assignment table (the encode's and the trainer's "
      + "nearest-list step, one thread): graph vs exact flat through MLlib's BLAS; 0: no such table (default: "
      + "${DEFAULT-VALUE}).")
  int assignVectors = 0;

  @Option(names = "--quantizer", description = "A quantizer.bin whose IVF centroids to probe (replaces --nlist and "
      + "--d; queries from the generator with --seed/--clusters, rotated by the model).")
  Path quantizer;

  @Override
  public Integer call() throws IOException {
    List<String> rows = new ArrayList<>();
    if (quantizer != null) {
      QuantizerModel m;
      try (InputStream in = Files.newInputStream(quantizer)) {
        m = QuantizerFormat.read(in, quantizer.toString());
      }
      int dm = m.dim();
      float[] gen = generatorCentres(dm);
      float[] q = new float[queries * dm];
      for (int i = 0; i < queries; i++) {
        System.arraycopy(m.preTransform(SyntheticVectors.vector(gen, clusters, dm, seed, 1_000_000_000L + i)), 0, q,
            i * dm, dm);
      }
      rows.addAll(run(m.coarse(), q, dm));
    } else {
      float[] gen = generatorCentres(d);
      for (int nlist : nlists) {
        float[] c = new float[nlist * d];
        for (int j = 0; j < nlist; j++) {
          System.arraycopy(SyntheticVectors.vector(gen, clusters, d, seed, j), 0, c, j * d, d);
        }
        float[] q = new float[queries * d];
        for (int i = 0; i < queries; i++) {
          System.arraycopy(SyntheticVectors.vector(gen, clusters, d, seed, nlist + i), 0, q, i * d, d);
        }
        rows.addAll(run(CoarseQuantizer.ivf(c, nlist, d), q, d));
      }
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "Coarse probe, one thread, %d queries, %s; HNSW M=%d, efConstruction=%d, seed %d%n%n",
        queries, quantizer != null ? "centroids of " + quantizer : "synthetic centroids (bench-train generator, "
            + clusters + " clusters, seed " + seed + ")", CentroidGraph.M, CentroidGraph.EF_CONSTRUCTION,
        CentroidGraph.DEFAULT_SEED);
    System.out.println("| nlist | d | nprobe | efSearch | graph build s | flat ms/query | graph ms/query | "
        + "flat lists found |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|");
    rows.forEach(System.out::println);
    if (!assignRows.isEmpty()) {
      System.out.printf(Locale.ROOT, "%nBatch assignment (nearest list), one thread, %d vectors: the graph (beam %d) "
          + "vs the exact flat scan through MLlib's BLAS (%s) and the reference kernel (first %d vectors)%n%n",
          assignVectors, CoarseQuantizer.graphBeam(1), MllibBlasProducts.nativeLoaded() ? "native" : "Java fallback",
          Math.min(assignVectors, REFERENCE_VECTORS));
      System.out.println("| nlist | d | graph µs/vector | exact, BLAS µs/vector | exact, reference kernel µs/vector | "
          + "graph = exact |");
      System.out.println("|---:|---:|---:|---:|---:|---:|");
      assignRows.forEach(System.out::println);
    }
    return 0;
  }

  /** Vectors of the reference kernel's timing in the assignment table (it scans every centroid in Java). */
  private static final int REFERENCE_VECTORS = 1024;

  private final List<String> assignRows = new ArrayList<>();

  /**
   * One assignment row: µs per vector of the graph ({@link CoarseQuantizer#probeGraph} with the beam of one list),
   * of {@link CoarseQuantizer#assignExact} through MLlib's BLAS and through the reference kernel, and the fraction of
   * vectors the graph assigns to the exact nearest list.
   */
  private void assignRow(CoarseQuantizer cq, int dim) {
    if (assignVectors <= 0) {
      return;
    }
    int n = assignVectors;
    float[] gen = generatorCentres(dim);
    float[] x = new float[n * dim];
    for (int i = 0; i < n; i++) {
      System.arraycopy(SyntheticVectors.vector(gen, clusters, dim, seed, 2_000_000_000L + i), 0, x, i * dim, dim);
    }
    int[] graph = new int[n];
    int[] exact = new int[n];
    int beam = CoarseQuantizer.graphBeam(1);
    float[] one = new float[dim];
    long g0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      System.arraycopy(x, i * dim, one, 0, dim);
      graph[i] = cq.probeGraph(one, 1, beam)[0];
    }
    double graphUs = (System.nanoTime() - g0) / 1e3 / n;
    cq.assignExact(x, Math.min(n, 256), exact, MllibBlasProducts.INSTANCE); // warm-up
    long e0 = System.nanoTime();
    cq.assignExact(x, n, exact, MllibBlasProducts.INSTANCE);
    double exactUs = (System.nanoTime() - e0) / 1e3 / n;
    int nr = Math.min(n, REFERENCE_VECTORS);
    int[] ref = new int[nr];
    long r0 = System.nanoTime();
    cq.assignExact(x, nr, ref, null);
    double refUs = (System.nanoTime() - r0) / 1e3 / nr;
    if (!Arrays.equals(ref, Arrays.copyOf(exact, nr))) {
      throw new IllegalStateException("BLAS and reference assignments differ");
    }
    long same = 0;
    for (int i = 0; i < n; i++) {
      same += graph[i] == exact[i] ? 1 : 0;
    }
    String row = String.format(Locale.ROOT, "| %d | %d | %.1f | %.1f | %.1f | %.4f |", cq.nlist(), dim, graphUs,
        exactUs, refUs, same / (double) n);
    System.out.println(row);
    assignRows.add(row);
  }

  private float[] generatorCentres(int dim) {
    return SyntheticVectors.centres(seed, clusters, dim);
  }

  private List<String> run(CoarseQuantizer cq, float[] q, int dim) {
    int nlist = cq.nlist();
    long t0 = System.nanoTime();
    cq.probeGraph(Arrays.copyOf(q, dim), 1, 1); // builds the graph
    double build = (System.nanoTime() - t0) / 1e9;
    assignRow(cq, dim);
    List<String> rows = new ArrayList<>();
    float[][] qs = new float[queries][];
    for (int i = 0; i < queries; i++) {
      qs[i] = Arrays.copyOfRange(q, i * dim, (i + 1) * dim);
    }
    for (int nprobe : nprobes) {
      int[][] flat = new int[queries][];
      for (float[] x : qs) { // warm-up
        cq.probeFlat(x, nprobe);
      }
      long f0 = System.nanoTime();
      for (int i = 0; i < queries; i++) {
        flat[i] = cq.probeFlat(qs[i], nprobe);
      }
      double flatMs = (System.nanoTime() - f0) / 1e6 / queries;
      List<Integer> beams = new ArrayList<>(efs);
      if (defaultBeam && !beams.contains(CoarseQuantizer.graphBeam(nprobe))) {
        beams.add(CoarseQuantizer.graphBeam(nprobe));
      }
      for (int ef : beams) {
        for (float[] x : qs) { // warm-up
          cq.probeGraph(x, nprobe, ef);
        }
        int[][] graph = new int[queries][];
        long g0 = System.nanoTime();
        for (int i = 0; i < queries; i++) {
          graph[i] = cq.probeGraph(qs[i], nprobe, ef);
        }
        double graphMs = (System.nanoTime() - g0) / 1e6 / queries;
        long found = 0;
        long total = 0;
        for (int i = 0; i < queries; i++) {
          Set<Integer> truth = new HashSet<>();
          for (int l : flat[i]) {
            truth.add(l);
          }
          total += truth.size();
          found += Arrays.stream(graph[i]).filter(truth::contains).count();
        }
        String row = String.format(Locale.ROOT, "| %d | %d | %d | %d | %.1f | %.3f | %.3f | %.4f |", nlist, dim, nprobe,
            Math.max(ef, nprobe), build, flatMs, graphMs, found / (double) total);
        System.out.println(row);
        rows.add(row);
      }
    }
    return rows;
  }
}
