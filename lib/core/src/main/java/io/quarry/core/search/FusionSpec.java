package io.quarry.core.search;

import java.util.Locale;

/**
 * How the hybrid stage fuses the dense and the BM25 score of each candidate chunk, after exact re-scoring (every
 * candidate has both scores; see {@link Candidates}). Text form (config, CLI, HTTP API, manifest, reports):
 *
 * <ul>
 *   <li>{@code rrf:k=60}: reciprocal rank fusion, {@code 1/(k + rank_dense) + 1/(k + rank_bm25)} (Cormack, Clarke
 *       and Büttcher, SIGIR 2009);
 *   <li>{@code wrrf:k=60,alpha=0.7}: weighted RRF, {@code α/(k + rank_dense) + (1 − α)/(k + rank_bm25)};
 *   <li>{@code convex:tmm,alpha=0.7}: convex combination of normalized scores, {@code α·φ(dense) + (1 − α)·φ(bm25)}
 *       with {@code φ} one of {@code minmax}, {@code zscore} or {@code tmm} (theoretical min-max: the lower bound is
 *       the scoring function's theoretical minimum, the upper bound the observed maximum) — Bruch, Gai and Ingber,
 *       "An Analysis of Fusion Functions for Hybrid Retrieval", ACM TOIS 42(1), 2023, who name it TM2C2.
 * </ul>
 *
 * Ranks are 1-based over the candidate set; {@code α} is always the weight of the dense side.
 *
 * <p>{@link Level} says what is fused. {@code chunk} (the default): each candidate chunk's two scores are fused, and a
 * document scores as its best chunk (MaxP over the fused scores). {@code level=doc} (suffix, e.g.
 * {@code convex:zscore,alpha=0.7,level=doc}): each signal is first aggregated to the document by MaxP over the
 * document's candidate chunks (Dai and Callan, "Deeper Text Understanding for IR with Contextual Neural Language
 * Modeling", SIGIR 2019), normalization and ranks are computed over documents, and the documents are fused; then a
 * document's best dense chunk and its best BM25 chunk both count even when they are different chunks, and a document
 * split into many chunks does not weigh more in the normalization statistics than a short one.
 *
 * @param strategy fusion function
 * @param normalization score normalization of {@link Strategy#CONVEX} (ignored otherwise)
 * @param alpha dense weight in [0, 1] ({@link Strategy#WRRF} and {@link Strategy#CONVEX})
 * @param rrfK RRF constant, {@code >= 1} ({@link Strategy#RRF} and {@link Strategy#WRRF})
 * @param level fuse chunks (then MaxP) or documents (MaxP of each signal, then fuse)
 */
public record FusionSpec(Strategy strategy, Normalization normalization, double alpha, int rrfK, Level level) {

  /** What is fused: chunk scores (then MaxP per document) or per-document MaxP of each signal. */
  public enum Level {
    CHUNK,
    DOC
  }

  /** Fusion function. */
  public enum Strategy {
    RRF,
    WRRF,
    CONVEX
  }

  /** Per-query score normalization of a convex combination (Bruch et al. 2023, section 4). */
  public enum Normalization {
    /** {@code (s − min) / (max − min)} over the query's candidates. */
    MINMAX,
    /** {@code (s − mean) / stddev} over the query's candidates. */
    ZSCORE,
    /** {@code (s − theoretical min) / (max − theoretical min)}: BM25's minimum is 0, the dense minimum by metric. */
    TMM
  }

  /** The RRF constant of Cormack et al. (2009). */
  public static final int DEFAULT_RRF_K = 60;

  /**
   * The default without tuning: convex combination of z-score normalized scores with dense weight 0.7. Chosen on
   * training splits only (SciFact train, 809 queries, and the quick-start slice's 129 train queries; never a test
   * set): the middle of the plateau where every α in 0.6–0.8 beats both single signals on both (docs/benchmarks.md,
   * issue 11), and z-score rather than min-max because a single outlier score does not stretch its scale. Theoretical
   * min-max (Bruch et al.'s TM2C2) compresses the dense side (cosines of unit vectors sit far above the theoretical
   * −1), so it needs α ≈ 0.9 and fell below dense alone at α ≤ 0.8 here.
   */
  public static final FusionSpec DEFAULT = new FusionSpec(Strategy.CONVEX, Normalization.ZSCORE, 0.7, DEFAULT_RRF_K);

  /** A chunk-level fusion. */
  public FusionSpec(Strategy strategy, Normalization normalization, double alpha, int rrfK) {
    this(strategy, normalization, alpha, rrfK, Level.CHUNK);
  }

  /** Checks the ranges. @throws IllegalArgumentException naming the parameter */
  public FusionSpec {
    if (level == null) {
      throw new IllegalArgumentException("fusion level is required (chunk, doc)");
    }
    if (strategy == null) {
      throw new IllegalArgumentException("fusion strategy is required (rrf, wrrf, convex)");
    }
    if (strategy == Strategy.CONVEX && normalization == null) {
      throw new IllegalArgumentException("convex fusion needs a normalization (minmax, zscore, tmm)");
    }
    if (!(alpha >= 0 && alpha <= 1)) {
      throw new IllegalArgumentException("fusion alpha must be in [0, 1], got " + alpha);
    }
    if (rrfK < 1) {
      throw new IllegalArgumentException("fusion rrf k must be >= 1, got " + rrfK);
    }
  }

  /** Plain RRF with constant {@code k}. */
  public static FusionSpec rrf(int k) {
    return new FusionSpec(Strategy.RRF, null, 0.5, k);
  }

  /** Weighted RRF. */
  public static FusionSpec wrrf(int k, double alpha) {
    return new FusionSpec(Strategy.WRRF, null, alpha, k);
  }

  /** Convex combination of normalized scores. */
  public static FusionSpec convex(Normalization n, double alpha) {
    return new FusionSpec(Strategy.CONVEX, n, alpha, DEFAULT_RRF_K);
  }

  /** This fusion at another level. */
  public FusionSpec withLevel(Level l) {
    return new FusionSpec(strategy, normalization, alpha, rrfK, l);
  }

  /**
   * Parses the text form ({@code rrf:k=60}, {@code wrrf:k=60,alpha=0.7}, {@code convex:tmm,alpha=0.7}); omitted
   * parameters take {@link #DEFAULT}'s values ({@code rrf} alone is {@code rrf:k=60}).
   *
   * @throws IllegalArgumentException naming the text and what is wrong
   */
  public static FusionSpec parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("fusion spec is empty (expected e.g. rrf:k=60, wrrf:k=60,alpha=0.7, "
          + "convex:zscore,alpha=0.7)");
    }
    String s = text.trim().toLowerCase(Locale.ROOT);
    int colon = s.indexOf(':');
    String head = colon < 0 ? s : s.substring(0, colon);
    Strategy st = switch (head) {
      case "rrf" -> Strategy.RRF;
      case "wrrf" -> Strategy.WRRF;
      case "convex" -> Strategy.CONVEX;
      default -> throw new IllegalArgumentException("fusion '" + text + "': strategy must be rrf, wrrf or convex");
    };
    Normalization norm = st == Strategy.CONVEX ? DEFAULT.normalization() : null;
    double alpha = st == Strategy.RRF ? 0.5 : DEFAULT.alpha();
    int k = DEFAULT_RRF_K;
    Level level = Level.CHUNK;
    if (colon >= 0) {
      for (String part : s.substring(colon + 1).split(",")) {
        String p = part.trim();
        if (p.isEmpty()) {
          continue;
        }
        int eq = p.indexOf('=');
        String key = eq < 0 ? p : p.substring(0, eq).trim();
        String val = eq < 0 ? null : p.substring(eq + 1).trim();
        try {
          switch (key) {
            case "minmax", "zscore", "tmm" -> {
              if (st != Strategy.CONVEX) {
                throw new IllegalArgumentException("fusion '" + text + "': normalization is for convex only");
              }
              norm = Normalization.valueOf(key.toUpperCase(Locale.ROOT));
            }
            case "alpha" -> {
              if (st == Strategy.RRF) {
                throw new IllegalArgumentException("fusion '" + text + "': rrf has no alpha (use wrrf)");
              }
              alpha = Double.parseDouble(val);
            }
            case "k" -> {
              if (st == Strategy.CONVEX) {
                throw new IllegalArgumentException("fusion '" + text + "': convex has no k");
              }
              k = Integer.parseInt(val);
            }
            case "level" -> {
              if (!"chunk".equals(val) && !"doc".equals(val)) {
                throw new IllegalArgumentException("fusion '" + text + "': level must be chunk or doc");
              }
              level = Level.valueOf(val.toUpperCase(Locale.ROOT));
            }
            default -> throw new IllegalArgumentException("fusion '" + text + "': unknown parameter '" + key + "'");
          }
        } catch (NumberFormatException | NullPointerException e) {
          throw new IllegalArgumentException("fusion '" + text + "': bad value for " + key);
        }
      }
    }
    try {
      return new FusionSpec(st, norm, alpha, k, level);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("fusion '" + text + "': " + e.getMessage());
    }
  }

  /** The canonical text form, which {@link #parse} reads back to an equal spec. */
  @Override
  public String toString() {
    String s = switch (strategy) {
      case RRF -> "rrf:k=" + rrfK;
      case WRRF -> "wrrf:k=" + rrfK + ",alpha=" + fmt(alpha);
      case CONVEX -> "convex:" + normalization.name().toLowerCase(Locale.ROOT) + ",alpha=" + fmt(alpha);
    };
    return level == Level.DOC ? s + ",level=doc" : s;
  }

  private static String fmt(double a) {
    String s = String.format(Locale.ROOT, "%.4f", a);
    s = s.replaceAll("0+$", "");
    return s.endsWith(".") ? s + "0" : s;
  }
}
