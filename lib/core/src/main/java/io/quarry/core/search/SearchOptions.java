package io.quarry.core.search;

/**
 * The parameters of one search, shared by the HTTP API, the evaluation and the tuning: one typed object instead of
 * positional arguments. Build with {@link #builder()}; every field has a default. The tunable fields ({@code nprobe},
 * {@code bm25Depth}, {@code denseDepth}, {@code fusion}) may be left null, meaning "the index version's tuned
 * default" ({@link io.quarry.core.segment.IndexManifest.SearchDefaults}, written by {@code quarry tune}), else the
 * built-in default; {@link HybridSearcher} resolves them.
 *
 * @param k hits returned
 * @param mode stages before the cross-encoder: {@code bm25}, {@code ivfpq}, {@code rescore} or {@code hybrid}
 * @param nprobe IVF lists probed (null: index default, else 16)
 * @param denseDepth ADC candidates (null: index default, else max(100, k))
 * @param bm25Depth BM25 candidates (null: index default, else max(100, k))
 * @param rescoreDepth rescore mode: ADC candidates re-scored with the stored vectors (hybrid mode re-scores every
 *     candidate; ivfpq mode none)
 * @param fusion hybrid mode: how the two exact scores are fused (null: index default, else
 *     {@link FusionSpec#DEFAULT})
 * @param rerank run the cross-encoder
 * @param rerankDepth candidates (the top of the previous stage) scored by the cross-encoder when {@code rerank}
 * @param withText fetch the stored chunk text of the returned hits
 */
public record SearchOptions(int k, Mode mode, Integer nprobe, Integer denseDepth, Integer bm25Depth,
    int rescoreDepth, FusionSpec fusion, boolean rerank, int rerankDepth, boolean withText) {

  /** Built-in defaults of the tunable fields when neither the request nor the index version sets them. */
  public static final int DEFAULT_NPROBE = 16;

  /** Default candidate depth per first stage (at least k). */
  public static final int DEFAULT_DEPTH = 100;

  /** Which stages run before the optional cross-encoder (the stage vocabulary of {@link Stages}). */
  public enum Mode {
    /** BM25 alone. */
    BM25,
    /** ADC over the IVF-PQ codes alone ({@code rescoreDepth} is not used). */
    IVFPQ,
    /** ADC, then the top {@code rescoreDepth} re-scored with the stored vectors (float32 or sq8). */
    RESCORE,
    /** BM25 ∪ IVF-PQ candidates, re-scored, fused. */
    HYBRID;

    /** Old request/config spellings to the mode they mean now: {@code dense} was ADC + re-scoring. */
    public static final java.util.Map<String, Mode> DEPRECATED = java.util.Map.of("dense", RESCORE);

    /** The accepted spellings, for messages. */
    public static final String NAMES = "bm25, ivfpq, rescore or hybrid";

    /**
     * Parses {@code bm25}, {@code ivfpq}, {@code rescore}, {@code hybrid} (case-insensitive), and the deprecated
     * {@code dense} ({@code rescore}), logging one deprecation warning.
     */
    public static Mode parse(String s) {
      String l = s.toLowerCase(java.util.Locale.ROOT);
      Mode old = DEPRECATED.get(l);
      if (old != null) {
        Stages.deprecated("mode", l, old.label());
        return old;
      }
      return switch (l) {
        case Stages.BM25 -> BM25;
        case Stages.IVFPQ -> IVFPQ;
        case Stages.RESCORE -> RESCORE;
        case Stages.HYBRID -> HYBRID;
        default -> throw new IllegalArgumentException("mode must be " + NAMES + ", got '" + s + "'");
      };
    }

    /** Whether {@code s} is a deprecated spelling of a mode. */
    public static boolean isDeprecated(String s) {
      return s != null && DEPRECATED.containsKey(s.toLowerCase(java.util.Locale.ROOT));
    }

    /** Whether the mode's only retriever is the dense one. */
    public boolean denseOnly() {
      return this == IVFPQ || this == RESCORE;
    }

    /** Lower-case name as in the API (the stage name). */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Checks the ranges. @throws IllegalArgumentException naming the field */
  public SearchOptions {
    if (mode == null) {
      throw new IllegalArgumentException("mode is required");
    }
    if (k < 1) {
      throw new IllegalArgumentException("k must be >= 1, got " + k);
    }
    if (nprobe != null && nprobe < 1) {
      throw new IllegalArgumentException("nprobe must be >= 1, got " + nprobe);
    }
    if (denseDepth != null && (denseDepth < 1 || denseDepth < k && mode.denseOnly())
        || bm25Depth != null && (bm25Depth < 1 || bm25Depth < k && mode == Mode.BM25)) {
      throw new IllegalArgumentException("candidate depths must be >= 1 and >= k (" + k + ") for the mode's "
          + "only retriever");
    }
    if (rescoreDepth < 0) {
      throw new IllegalArgumentException("rescoreDepth must be >= 0, got " + rescoreDepth);
    }
    if (rerank && rerankDepth < 1) {
      throw new IllegalArgumentException("rerankDepth must be >= 1, got " + rerankDepth);
    }
  }

  /** A builder with the defaults: hybrid, k 10, index-default nprobe/depths/fusion, re-score 100, with text. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.k = k;
    b.mode = mode;
    b.nprobe = nprobe;
    b.denseDepth = denseDepth;
    b.bm25Depth = bm25Depth;
    b.rescoreDepth = rescoreDepth;
    b.fusion = fusion;
    b.rerank = rerank;
    b.rerankDepth = rerankDepth;
    b.withText = withText;
    return b;
  }

  /** Builder of {@link SearchOptions}. */
  public static final class Builder {
    private int k = 10;
    private Mode mode = Mode.HYBRID;
    private Integer nprobe;
    private Integer denseDepth;
    private Integer bm25Depth;
    private int rescoreDepth = DEFAULT_DEPTH;
    private FusionSpec fusion;
    private boolean rerank;
    private int rerankDepth = -1;
    private boolean withText = true;

    private Builder() {}

    public Builder k(int v) {
      k = v;
      return this;
    }

    public Builder mode(Mode v) {
      mode = v;
      return this;
    }

    public Builder nprobe(Integer v) {
      nprobe = v;
      return this;
    }

    public Builder denseDepth(Integer v) {
      denseDepth = v;
      return this;
    }

    public Builder bm25Depth(Integer v) {
      bm25Depth = v;
      return this;
    }

    /** Both first-stage depths. */
    public Builder depth(Integer v) {
      denseDepth = v;
      bm25Depth = v;
      return this;
    }

    public Builder rescoreDepth(int v) {
      rescoreDepth = v;
      return this;
    }

    public Builder fusion(FusionSpec v) {
      fusion = v;
      return this;
    }

    public Builder rerank(boolean v) {
      rerank = v;
      return this;
    }

    /** Cross-encoder depth; unset, {@code max(rescoreDepth, k)}. */
    public Builder rerankDepth(int v) {
      rerankDepth = v;
      return this;
    }

    public Builder withText(boolean v) {
      withText = v;
      return this;
    }

    /** @throws IllegalArgumentException naming the field out of range */
    public SearchOptions build() {
      return new SearchOptions(k, mode, nprobe, denseDepth, bm25Depth, rescoreDepth, fusion, rerank,
          rerankDepth < 0 ? Math.max(rescoreDepth, k) : rerankDepth, withText);
    }
  }
}
