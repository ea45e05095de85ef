package io.quarry.core.quant;

import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.component.ProductQuantizer;
import io.quarry.core.quant.component.VectorTransform;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A compact index description in FAISS's index-factory notation (see FAISS {@code faiss/index_factory.cpp}):
 * comma-separated components, in this order:
 *
 * <ol>
 *   <li>optional {@code OPQ<M>}: an OPQ rotation (Ge et al., "Optimized Product Quantization for Approximate Nearest
 *       Neighbor Search", CVPR 2013) trained for {@code M} sub-quantizers, applied before IVF and PQ;
 *   <li>optional {@code IVF<nlist>}: an inverted-file coarse quantizer with {@code nlist} centroids (Jégou et al.,
 *       "Product Quantization for Nearest Neighbor Search", TPAMI 2011, IVFADC);
 *   <li>the encoding: {@code PQ<M>x<nbits>} (product quantizer with {@code M} sub-quantizers of {@code 2^nbits}
 *       centroids each, {@code nbits} in 1..8; {@code PQ<M>} means {@code nbits = 8}), of the residual to the coarse
 *       centroid when IVF is present; or {@code Flat} (uncompressed float32 vectors).
 * </ol>
 *
 * <p>Examples: {@code OPQ48,IVF1024,PQ48x8}, {@code IVF256,PQ16x8}, {@code PQ32x8}, {@code IVF1024,Flat}. {@link
 * #toString()} prints the canonical form ({@code PQ16} prints as {@code PQ16x8}); {@code parse(s.toString())} equals
 * {@code s}, and a canonical string round-trips character for character. Checks that need the vector dimension
 * ({@code d % M == 0}) are in {@link #validateFor(int)}.
 *
 * @param opqM sub-quantizers the OPQ rotation is trained for; 0 when there is no OPQ
 * @param nlist IVF lists; 0 when there is no IVF (one implicit list)
 * @param pqM PQ sub-quantizers; 0 for {@code Flat}
 * @param nbits bits per PQ sub-code (1..8); 0 for {@code Flat}
 */
public record IndexSpec(int opqM, int nlist, int pqM, int nbits) implements java.io.Serializable {

  private static final Pattern OPQ = Pattern.compile("OPQ(\\d+)");
  private static final Pattern IVF = Pattern.compile("IVF(\\d+)");
  private static final Pattern PQ = Pattern.compile("PQ(\\d+)(?:x(\\d+))?");

  /** Largest accepted nlist (2^24), a sanity bound against typos. */
  public static final int MAX_NLIST = 1 << 24;

  /**
   * Validates the components.
   *
   * @throws IllegalArgumentException naming the offending component and value
   */
  public IndexSpec {
    if (opqM < 0 || nlist < 0 || pqM < 0 || nbits < 0) {
      throw new IllegalArgumentException("index spec: negative parameter (opqM=" + opqM + ", nlist=" + nlist
          + ", M=" + pqM + ", nbits=" + nbits + ")");
    }
    if (nlist > MAX_NLIST) {
      throw new IllegalArgumentException("index spec: nlist " + nlist + " exceeds " + MAX_NLIST);
    }
    if (pqM == 0 && nbits != 0) {
      throw new IllegalArgumentException("index spec: Flat encoding takes no nbits (got " + nbits + ")");
    }
    if (pqM > 0 && (nbits < 1 || nbits > 8)) {
      throw new IllegalArgumentException("index spec: nbits must be in 1..8, got " + nbits);
    }
    if (opqM > 0 && pqM == 0) {
      throw new IllegalArgumentException("index spec: OPQ" + opqM + " needs a PQ encoding, not Flat");
    }
  }

  /**
   * Parses a spec such as {@code OPQ16,IVF64,PQ16x8}. Whitespace around components is ignored; component names are
   * case-sensitive as in FAISS.
   *
   * @throws IllegalArgumentException with a message naming the bad component (unknown token, wrong order, a zero or
   *     missing number, {@code nbits} outside 1..8, missing encoding)
   */
  public static IndexSpec parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("index spec is empty (expected e.g. IVF256,PQ16x8)");
    }
    String[] parts = spec.split(",", -1);
    int opqM = 0;
    int nlist = 0;
    int pqM = -1;
    int nbits = 0;
    int stage = 0; // 0: expect OPQ/IVF/enc, 1: expect IVF/enc, 2: expect enc, 3: done
    for (String raw : parts) {
      String t = raw.strip();
      String where = "index spec '" + spec + "': ";
      if (t.isEmpty()) {
        throw new IllegalArgumentException(where + "empty component");
      }
      if (stage == 3) {
        throw new IllegalArgumentException(where + "unexpected component '" + t + "' after the encoding");
      }
      Matcher m;
      if ((m = OPQ.matcher(t)).matches()) {
        if (stage != 0) {
          throw new IllegalArgumentException(where + "OPQ must come first, found '" + t + "'");
        }
        opqM = positive(m.group(1), where, "OPQ M");
        stage = 1;
      } else if ((m = IVF.matcher(t)).matches()) {
        if (stage > 1) {
          throw new IllegalArgumentException(where + "IVF must come before the encoding, found '" + t + "'");
        }
        nlist = positive(m.group(1), where, "IVF nlist");
        stage = 2;
      } else if ((m = PQ.matcher(t)).matches()) {
        pqM = positive(m.group(1), where, "PQ M");
        nbits = m.group(2) == null ? 8 : positiveOrZero(m.group(2), where);
        if (nbits < 1 || nbits > 8) {
          throw new IllegalArgumentException(where + "nbits must be in 1..8, got " + nbits + " in '" + t + "'");
        }
        stage = 3;
      } else if (t.equals("Flat")) {
        pqM = 0;
        nbits = 0;
        stage = 3;
      } else if (t.startsWith("OPQ") && t.contains("_")) {
        throw new IllegalArgumentException(where + "OPQ with an output dimension ('" + t
            + "') is not supported; use OPQ<M>");
      } else {
        throw new IllegalArgumentException(where + "unknown component '" + t
            + "' (expected OPQ<M>, IVF<nlist>, PQ<M>x<nbits> or Flat)");
      }
    }
    if (stage != 3) {
      throw new IllegalArgumentException("index spec '" + spec + "': missing the encoding (PQ<M>x<nbits> or Flat)");
    }
    try {
      return new IndexSpec(opqM, nlist, pqM, nbits);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("index spec '" + spec + "': " + e.getMessage(), e);
    }
  }

  private static int positive(String digits, String where, String what) {
    int v = positiveOrZero(digits, where);
    if (v == 0) {
      throw new IllegalArgumentException(where + what + " must be > 0");
    }
    return v;
  }

  private static int positiveOrZero(String digits, String where) {
    try {
      return Integer.parseInt(digits);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(where + "number out of range: " + digits, e);
    }
  }

  /** True when an OPQ rotation precedes the other components. */
  public boolean hasOpq() {
    return opqM > 0;
  }

  /** True when an IVF coarse quantizer is present. */
  public boolean hasIvf() {
    return nlist > 0;
  }

  /** True for the uncompressed {@code Flat} encoding. */
  public boolean isFlat() {
    return pqM == 0;
  }

  /** Lists actually used: {@code nlist}, or 1 without IVF. */
  public int effectiveNlist() {
    return nlist > 0 ? nlist : 1;
  }

  /** Centroids per PQ sub-quantizer ({@code 2^nbits}); 0 for Flat. */
  public int ksub() {
    return isFlat() ? 0 : 1 << nbits;
  }

  /**
   * Bytes per encoded vector for dimension {@code d}: {@code ceil(M × nbits / 8)} for PQ (bit-packed as in FAISS's
   * {@code PQEncoderGeneric}), {@code 4 × d} for Flat.
   */
  public int codeSize(int d) {
    return isFlat() ? 4 * d : (pqM * nbits + 7) / 8;
  }

  /**
   * Checks the spec against the vector dimension.
   *
   * @throws IllegalArgumentException when {@code d ≤ 0}, or {@code d} is not divisible by the PQ or OPQ {@code M}
   */
  public void validateFor(int d) {
    if (d <= 0) {
      throw new IllegalArgumentException("index spec " + this + ": dimension must be > 0, got " + d);
    }
    if (pqM > 0 && d % pqM != 0) {
      throw new IllegalArgumentException("index spec " + this + ": d = " + d + " is not divisible by PQ M = " + pqM);
    }
    if (opqM > 0 && d % opqM != 0) {
      throw new IllegalArgumentException("index spec " + this + ": d = " + d + " is not divisible by OPQ M = "
          + opqM);
    }
  }

  // ------------------------------------------------------------------------------------------------ the chain

  /**
   * The vector transform of this spec: the OPQ rotation built from {@code rotation} ({@code d × d}, row-major), or
   * the identity without OPQ.
   *
   * @throws IllegalArgumentException when a rotation is required but missing/mis-shaped, or given without OPQ
   */
  public VectorTransform transform(int d, float[] rotation) {
    validateFor(d);
    if (!hasOpq()) {
      if (rotation != null) {
        throw new IllegalArgumentException("rotation given but spec " + this + " has no OPQ");
      }
      return VectorTransform.identity(d);
    }
    return VectorTransform.rotation(rotation, d);
  }

  /**
   * The coarse quantizer of this spec: IVF over {@code centroids} ({@code nlist × d}), or the single zero centroid
   * without IVF ({@code centroids} ignored).
   *
   * @throws IllegalArgumentException when IVF centroids are missing or mis-shaped
   */
  public CoarseQuantizer coarse(int d, float[] centroids) {
    validateFor(d);
    return hasIvf() ? CoarseQuantizer.ivf(centroids, nlist, d) : CoarseQuantizer.single(d);
  }

  /**
   * The product quantizer of this spec over {@code codebooks} ({@code M × 2^nbits × d/M}), or null for Flat.
   *
   * @throws IllegalArgumentException when codebooks are missing/mis-shaped, or given for Flat
   */
  public ProductQuantizer productQuantizer(int d, float[] codebooks) {
    validateFor(d);
    if (isFlat()) {
      if (codebooks != null) {
        throw new IllegalArgumentException("codebooks given but spec " + this + " is Flat");
      }
      return null;
    }
    return new ProductQuantizer(pqM, nbits, d / pqM, codebooks);
  }

  /**
   * Checks that the components form the chain this spec describes: a rotation iff OPQ, {@code nlist} lists (1
   * without IVF), a product quantizer with this {@code M} and {@code nbits} unless Flat, one dimension throughout.
   *
   * @throws IllegalArgumentException naming the first mismatch
   */
  public void checkChain(VectorTransform transform, CoarseQuantizer coarse, ProductQuantizer pq) {
    java.util.Objects.requireNonNull(transform, "transform");
    java.util.Objects.requireNonNull(coarse, "coarse quantizer");
    int d = transform.dim();
    validateFor(d);
    if (transform.isIdentity() == hasOpq()) {
      throw new IllegalArgumentException("spec " + this + (hasOpq() ? " needs an OPQ rotation" : " has no OPQ")
          + ", got " + transform);
    }
    if (coarse.dim() != d || coarse.nlist() != effectiveNlist()) {
      throw new IllegalArgumentException("spec " + this + " at d = " + d + " needs " + effectiveNlist()
          + " coarse centroids of dimension " + d + ", got " + coarse);
    }
    if (isFlat() != (pq == null)
        || (pq != null && (pq.m() != pqM || pq.nbits() != nbits || pq.dim() != d))) {
      throw new IllegalArgumentException("spec " + this + " at d = " + d + " needs "
          + (isFlat() ? "no product quantizer" : "PQ" + pqM + "x" + nbits + " of dimension " + d) + ", got " + pq);
    }
  }

  /** The canonical FAISS-notation string, e.g. {@code OPQ16,IVF64,PQ16x8}. */
  @Override
  public String toString() {
    List<String> parts = new ArrayList<>(3);
    if (opqM > 0) {
      parts.add("OPQ" + opqM);
    }
    if (nlist > 0) {
      parts.add("IVF" + nlist);
    }
    parts.add(isFlat() ? "Flat" : String.format(Locale.ROOT, "PQ%dx%d", pqM, nbits));
    return String.join(",", parts);
  }
}
