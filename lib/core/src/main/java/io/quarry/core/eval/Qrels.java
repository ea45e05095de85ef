package io.quarry.core.eval;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Relevance judgments: for each query id, the judged documents and their integer grades. A document is relevant
 * when its grade is at least {@link #RELEVANCE_LEVEL} (trec_eval's default {@code -l 1}); its nDCG gain is its grade
 * (grades below 0 give gain 0).
 *
 * <p>Formats: BEIR TSV ({@code query-id<TAB>corpus-id<TAB>score}, optional header line) and TREC qrels
 * ({@code qid iter docid rel}, whitespace-separated). CRLF line endings and blank lines are accepted. A document
 * judged twice for the same query with the same grade is kept once; with different grades it is an error.
 */
public final class Qrels {
  /** Minimum grade of a relevant document (trec_eval {@code -l}). */
  public static final int RELEVANCE_LEVEL = 1;

  private final Map<String, Map<String, Integer>> byQuery;
  private final String source;

  private Qrels(String source, Map<String, Map<String, Integer>> byQuery) {
    this.source = source;
    this.byQuery = byQuery;
  }

  /** Builds qrels from a map {@code qid -> (docid -> grade)} (kept in iteration order). */
  public static Qrels of(Map<String, Map<String, Integer>> judgments) {
    Map<String, Map<String, Integer>> copy = new LinkedHashMap<>();
    judgments.forEach((q, m) -> copy.put(q, Collections.unmodifiableMap(new LinkedHashMap<>(m))));
    return new Qrels("<memory>", copy);
  }

  /**
   * Reads qrels in {@code format} ({@code beir} or {@code trec}).
   *
   * @param source name of the input for error messages (file path or URI)
   * @throws EvalInputException naming {@code source}, the line and the field on malformed input
   */
  public static Qrels read(String format, String source, BufferedReader in) {
    return switch (format) {
      case "beir" -> parse(source, in, true);
      case "trec" -> parse(source, in, false);
      default -> throw new IllegalArgumentException("unknown qrels format '" + format + "' (expected beir or trec)");
    };
  }

  private static Qrels parse(String source, BufferedReader in, boolean beir) {
    Map<String, Map<String, Integer>> map = new LinkedHashMap<>();
    int lineNo = 0;
    try {
      String line;
      while ((line = in.readLine()) != null) {
        lineNo++;
        line = stripCr(line);
        if (line.isBlank()) {
          continue;
        }
        String[] f = beir ? line.split("\t", -1) : line.trim().split("\\s+");
        int expected = beir ? 3 : 4;
        if (beir && lineNo == 1 && f.length == 3 && !isInt(f[2].trim())) {
          continue; // header, e.g. "query-id corpus-id score"
        }
        if (f.length != expected) {
          throw new EvalInputException(source, lineNo, "expected " + expected + (beir ? " tab-separated" : "")
              + " fields (" + (beir ? "query-id, corpus-id, score" : "qid, iter, docid, rel") + "), got " + f.length);
        }
        String qid = f[0].trim();
        String doc = (beir ? f[1] : f[2]).trim();
        String grade = (beir ? f[2] : f[3]).trim();
        if (qid.isEmpty()) {
          throw new EvalInputException(source, lineNo, "empty query id");
        }
        if (doc.isEmpty()) {
          throw new EvalInputException(source, lineNo, "empty document id");
        }
        if (!isInt(grade)) {
          throw new EvalInputException(source, lineNo, "field '" + (beir ? "score" : "rel")
              + "' must be an integer grade, got '" + grade + "'");
        }
        int g = Integer.parseInt(grade);
        Integer prev = map.computeIfAbsent(qid, x -> new LinkedHashMap<>()).putIfAbsent(doc, g);
        if (prev != null && prev != g) {
          throw new EvalInputException(source, lineNo, "document '" + doc + "' judged twice for query '" + qid
              + "' with different grades (" + prev + " and " + g + ")");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(source + ": cannot read qrels", e);
    }
    if (map.isEmpty()) {
      throw new EvalInputException(source, 0, "no judgments found");
    }
    map.replaceAll((q, m) -> Collections.unmodifiableMap(m));
    return new Qrels(source, map);
  }

  static String stripCr(String line) {
    return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
  }

  private static boolean isInt(String s) {
    if (s.isEmpty()) {
      return false;
    }
    try {
      Integer.parseInt(s);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** Where these qrels were read from. */
  public String source() {
    return source;
  }

  /** Query ids with at least one judgment, in input order. */
  public Set<String> queryIds() {
    return Collections.unmodifiableSet(byQuery.keySet());
  }

  /** Judged documents of {@code qid} and their grades; empty if the query has no judgment. */
  public Map<String, Integer> judgments(String qid) {
    return byQuery.getOrDefault(qid, Map.of());
  }

  /** Number of relevant documents (grade &gt;= {@link #RELEVANCE_LEVEL}) of {@code qid}. */
  public int numRelevant(String qid) {
    int n = 0;
    for (int g : judgments(qid).values()) {
      if (g >= RELEVANCE_LEVEL) {
        n++;
      }
    }
    return n;
  }

  /** Number of (query, document) judgments. */
  public int size() {
    int n = 0;
    for (Map<String, Integer> m : byQuery.values()) {
      n += m.size();
    }
    return n;
  }

  /** Keeps only the queries in {@code qids}. */
  public Qrels restrictTo(Set<String> qids) {
    Map<String, Map<String, Integer>> m = new LinkedHashMap<>();
    byQuery.forEach((q, j) -> {
      if (qids.contains(q)) {
        m.put(q, j);
      }
    });
    return new Qrels(source, m);
  }
}
