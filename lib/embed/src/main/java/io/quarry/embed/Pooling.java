package io.quarry.embed;

import java.util.Locale;

/** How token embeddings ({@code batch × seq × dim}) become one vector per text. */
public enum Pooling {
  /** Average of the token vectors under the attention mask (Sentence-BERT, Reimers and Gurevych 2019; e5). */
  MEAN,
  /** The first token's ({@code [CLS]}) vector (BGE, Xiao et al. 2023, "C-Pack"). */
  CLS;

  /** Parses {@code mean} / {@code cls} (case-insensitive). */
  public static Pooling parse(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "mean" -> MEAN;
      case "cls" -> CLS;
      default -> throw new IllegalArgumentException("unknown pooling '" + s + "' (expected mean or cls)");
    };
  }

  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }
}
