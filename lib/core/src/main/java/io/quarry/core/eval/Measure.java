package io.quarry.core.eval;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An IR measure and its cutoff (what the config and reports call a metric; not the
 * {@link io.quarry.core.quant.DistanceMetric} of the vectors), named as in Quarry's reports ({@code nDCG@10},
 * {@code Recall@100}, {@code MRR@10}, {@code P@10}, {@code MAP}, {@code MAP@100}, {@code Success@10}) or as in
 * trec_eval ({@code ndcg_cut_10}, {@code recall_100}, {@code P_10}, {@code map}, {@code map_cut_100},
 * {@code success_10}, {@code recip_rank}); {@link #name()} is always the Quarry form.
 *
 * <p>Equivalences with trec_eval (same run, same qrels): {@code nDCG@k = ndcg_cut_k}, {@code Recall@k = recall_k},
 * {@code P@k = P_k}, {@code MAP = map}, {@code MAP@k = map_cut_k}, {@code Success@k = success_k},
 * {@code MRR@k = recip_rank} on the run cut to its top k ({@code trec_eval -M k}); {@code MRR} (no cutoff) =
 * {@code recip_rank}.
 *
 * @param kind which measure
 * @param k cutoff in documents, or 0 for none ({@code MAP}, {@code MRR} over the whole run)
 */
public record Measure(Kind kind, int k) {
  /** The measures. */
  public enum Kind { NDCG, RECALL, PRECISION, MRR, MAP, SUCCESS }

  private static final Pattern QUARRY = Pattern.compile("(?i)(ndcg|recall|p|precision|mrr|map|success)(?:@(\\d+))?");
  private static final Pattern TREC =
      Pattern.compile("(?i)(ndcg_cut|recall|p|map_cut|success)[_.](\\d+)|(map|recip_rank)");

  public Measure {
    if (k < 0) {
      throw new IllegalArgumentException("metric cutoff must be >= 0, got " + k);
    }
    if (k == 0 && kind != Kind.MAP && kind != Kind.MRR) {
      throw new IllegalArgumentException(kind + " needs a cutoff, e.g. @10");
    }
  }

  /**
   * Parses a metric name.
   *
   * @throws IllegalArgumentException naming the input if it is not a known metric
   */
  public static Measure parse(String s) {
    String t = s.trim();
    Matcher m = TREC.matcher(t);
    if (m.matches()) {
      if (m.group(3) != null) {
        return new Measure(m.group(3).equalsIgnoreCase("map") ? Kind.MAP : Kind.MRR, 0);
      }
      int k = Integer.parseInt(m.group(2));
      return new Measure(switch (m.group(1).toLowerCase(Locale.ROOT)) {
        case "ndcg_cut" -> Kind.NDCG;
        case "recall" -> Kind.RECALL;
        case "p" -> Kind.PRECISION;
        case "map_cut" -> Kind.MAP;
        default -> Kind.SUCCESS;
      }, k);
    }
    m = QUARRY.matcher(t);
    if (m.matches()) {
      int k = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
      Kind kind = switch (m.group(1).toLowerCase(Locale.ROOT)) {
        case "ndcg" -> Kind.NDCG;
        case "recall" -> Kind.RECALL;
        case "p", "precision" -> Kind.PRECISION;
        case "mrr" -> Kind.MRR;
        case "map" -> Kind.MAP;
        default -> Kind.SUCCESS;
      };
      try {
        return new Measure(kind, k);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("metric '" + s + "': " + e.getMessage());
      }
    }
    throw new IllegalArgumentException("unknown metric '" + s + "' (expected e.g. nDCG@10, Recall@100, MRR@10, "
        + "P@10, MAP, MAP@100, Success@10, or a trec_eval name such as ndcg_cut_10)");
  }

  /** Quarry's name, e.g. {@code nDCG@10}. */
  public String name() {
    String base = switch (kind) {
      case NDCG -> "nDCG";
      case RECALL -> "Recall";
      case PRECISION -> "P";
      case MRR -> "MRR";
      case MAP -> "MAP";
      case SUCCESS -> "Success";
    };
    return k == 0 ? base : base + "@" + k;
  }

  /** The trec_eval measure this equals (see the class comment for MRR@k). */
  public String trecEvalName() {
    return switch (kind) {
      case NDCG -> "ndcg_cut_" + k;
      case RECALL -> "recall_" + k;
      case PRECISION -> "P_" + k;
      case MRR -> "recip_rank";
      case MAP -> k == 0 ? "map" : "map_cut_" + k;
      case SUCCESS -> "success_" + k;
    };
  }

  @Override
  public String toString() {
    return name();
  }
}
