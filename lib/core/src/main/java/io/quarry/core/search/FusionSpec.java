package io.quarry.core.search;

import io.quarry.core.search.fusion.ConvexCombination;
import io.quarry.core.search.fusion.Fusion;
import io.quarry.core.search.fusion.FusionMethod;
import io.quarry.core.search.fusion.FusionMethods;
import io.quarry.core.search.fusion.FusionParams;
import io.quarry.core.search.fusion.Normalization;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How the hybrid stage fuses the signals of each candidate (after exact re-scoring every candidate has every
 * signal's score; see {@link Candidates}): a {@link Fusion} method and the {@link Level} it fuses at. Text form
 * (config, CLI, HTTP API, manifest, reports): the method's, e.g. {@code rrf:k=60}, {@code wrrf:k=60,alpha=0.7},
 * {@code convex:zscore,alpha=0.7} (the methods and their parameters:
 * {@link FusionMethods}), with the suffix {@code ,level=doc} for document-level fusion. {@code α} is always the
 * weight of the dense side.
 *
 * <p>{@link Level} says what is fused. {@code chunk} (the default): each candidate chunk's scores are fused, and a
 * document scores as its best chunk (MaxP over the fused scores). {@code level=doc} (suffix, e.g.
 * {@code convex:zscore,alpha=0.7,level=doc}): each signal is first aggregated to the document by MaxP over the
 * document's candidate chunks (Dai and Callan, "Deeper Text Understanding for IR with Contextual Neural Language
 * Modeling", SIGIR 2019), normalization and ranks are computed over documents, and the documents are fused; then a
 * document's best dense chunk and its best BM25 chunk both count even when they are different chunks, and a document
 * split into many chunks does not weigh more in the normalization statistics than a short one.
 *
 * @param fusion the fusion method and its parameters
 * @param level fuse chunks (then MaxP) or documents (MaxP of each signal, then fuse)
 */
public record FusionSpec(Fusion fusion, Level level) {

  /** What is fused: chunk scores (then MaxP per document) or per-document MaxP of each signal. */
  public enum Level {
    CHUNK,
    DOC
  }

  /**
   * The default without tuning: convex combination of z-score normalized scores with dense weight 0.7. Chosen on
   * training splits only (SciFact train, 809 queries, and the quick-start slice's 129 train queries; never a test
   * set): the middle of the plateau where every α in 0.6–0.8 beats both single signals on both (docs/benchmarks.md,
   * issue 11), and z-score rather than min-max because a single outlier score does not stretch its scale. Theoretical
   * min-max (Bruch et al.'s TM2C2) compresses the dense side (cosines of unit vectors sit far above the theoretical
   * −1), so it needs α ≈ 0.9 and fell below dense alone at α ≤ 0.8 here.
   */
  public static final FusionSpec DEFAULT =
      new FusionSpec(new ConvexCombination(Normalization.ZSCORE, ConvexCombination.DEFAULT_ALPHA));

  /** A chunk-level fusion. */
  public FusionSpec(Fusion fusion) {
    this(fusion, Level.CHUNK);
  }

  /** @throws IllegalArgumentException if a part is missing */
  public FusionSpec {
    if (level == null) {
      throw new IllegalArgumentException("fusion level is required (chunk, doc)");
    }
    if (fusion == null) {
      throw new IllegalArgumentException("fusion method is required (" + FusionMethods.namesText() + ")");
    }
  }

  /** This fusion at another level. */
  public FusionSpec withLevel(Level l) {
    return new FusionSpec(fusion, l);
  }

  /**
   * Parses the text form: {@code <method>[:<param>,...][,level=chunk|doc]}, the method one of {@link FusionMethods}
   * and its parameters as its {@link FusionMethod} takes them; omitted parameters take the method's defaults ({@code
   * rrf} alone is {@code rrf:k=60}, {@code convex} alone is {@link #DEFAULT}).
   *
   * @throws IllegalArgumentException naming the text and what is wrong
   */
  public static FusionSpec parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("fusion spec is empty (expected e.g. " + examples() + ")");
    }
    String s = text.trim().toLowerCase(Locale.ROOT);
    int colon = s.indexOf(':');
    String head = colon < 0 ? s : s.substring(0, colon);
    FusionMethod method = FusionMethods.get(head);
    if (method == null) {
      throw new IllegalArgumentException("fusion '" + text + "': strategy must be " + FusionMethods.namesText()
          + " (e.g. " + examples() + ")");
    }
    Level level = Level.CHUNK;
    List<String> params = new ArrayList<>();
    if (colon >= 0) {
      for (String part : s.substring(colon + 1).split(",")) {
        String p = part.trim();
        int eq = p.indexOf('=');
        if ((eq < 0 ? p : p.substring(0, eq).trim()).equals("level")) {
          String val = eq < 0 ? "" : p.substring(eq + 1).trim();
          if (!"chunk".equals(val) && !"doc".equals(val)) {
            throw new IllegalArgumentException("fusion '" + text + "': level must be chunk or doc");
          }
          level = Level.valueOf(val.toUpperCase(Locale.ROOT));
        } else if (!p.isEmpty()) {
          params.add(p);
        }
      }
    }
    FusionParams fp = new FusionParams(text, method, params);
    try {
      return new FusionSpec(method.parser().apply(fp), level);
    } catch (IllegalArgumentException e) {
      throw e.getMessage().startsWith("fusion '") ? e
          : new IllegalArgumentException("fusion '" + text + "': " + e.getMessage());
    }
  }

  private static String examples() {
    return String.join(", ", FusionMethods.all().stream().map(FusionMethod::example).toList());
  }

  /** The canonical text form, which {@link #parse} reads back to an equal spec. */
  @Override
  public String toString() {
    return level == Level.DOC ? fusion.text() + ",level=doc" : fusion.text();
  }
}
