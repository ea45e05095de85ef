package io.quarry.core.eval;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * TREC run files: one line per retrieved document, {@code qid Q0 docid rank score tag}, space-separated.
 *
 * <p>The writer sorts each query's documents in trec_eval's order ({@link Rankings#TREC_ORDER}) so that the rank
 * column agrees with how trec_eval reads the file, and prints scores with {@link Double#toString(double)}, which
 * round-trips exactly (no tie is created or broken by printing). Queries are written in the map's order.
 */
public final class TrecRunFormat {
  private TrecRunFormat() {}

  /**
   * Writes a run.
   *
   * @param run query id to ranked documents
   * @param tag run tag (last column); must not contain whitespace
   * @throws IllegalArgumentException if the tag or an id contains whitespace
   */
  public static void write(Map<String, List<ScoredDoc>> run, String tag, Writer out) throws IOException {
    checkToken(tag, "tag");
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, List<ScoredDoc>> e : run.entrySet()) {
      checkToken(e.getKey(), "query id");
      int rank = 1;
      for (ScoredDoc d : Rankings.sorted(e.getValue())) {
        checkToken(d.docId(), "document id");
        sb.setLength(0);
        sb.append(e.getKey()).append(" Q0 ").append(d.docId()).append(' ').append(rank++).append(' ')
            .append(d.score()).append(' ').append(tag).append('\n');
        out.write(sb.toString());
      }
    }
  }

  /**
   * Reads a run; each query's documents are returned in trec_eval's order (the rank column is ignored, as trec_eval
   * does).
   *
   * @throws EvalInputException naming source and line on a malformed line or a document listed twice for a query
   */
  public static Map<String, List<ScoredDoc>> read(String source, BufferedReader in) {
    Map<String, List<ScoredDoc>> run = new LinkedHashMap<>();
    Map<String, Set<String>> seen = new LinkedHashMap<>();
    int lineNo = 0;
    try {
      String line;
      while ((line = in.readLine()) != null) {
        lineNo++;
        line = Qrels.stripCr(line).trim();
        if (line.isEmpty()) {
          continue;
        }
        String[] f = line.split("\\s+");
        if (f.length != 6) {
          throw new EvalInputException(source, lineNo, "expected 6 fields 'qid Q0 docid rank score tag', got "
              + f.length);
        }
        double score;
        try {
          score = Double.parseDouble(f[4]);
        } catch (NumberFormatException e) {
          throw new EvalInputException(source, lineNo, "field 'score' is not a number: '" + f[4] + "'");
        }
        if (!seen.computeIfAbsent(f[0], q -> new HashSet<>()).add(f[2])) {
          throw new EvalInputException(source, lineNo, "document '" + f[2] + "' listed twice for query '" + f[0] + "'");
        }
        run.computeIfAbsent(f[0], q -> new ArrayList<>()).add(new ScoredDoc(f[2], score));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(source + ": cannot read run", e);
    }
    run.replaceAll((q, docs) -> Rankings.sorted(docs));
    return run;
  }

  /**
   * Whether {@code s} can be a query or document id in a TREC run or qrels line: non-empty, no whitespace
   * ({@link Character#isWhitespace}). The ingest stage quarantines documents whose id fails this.
   */
  public static boolean isValidToken(String s) {
    return s != null && !s.isEmpty() && s.chars().noneMatch(Character::isWhitespace);
  }

  private static void checkToken(String s, String what) {
    if (!isValidToken(s)) {
      throw new IllegalArgumentException(what + " must be non-empty without whitespace: '" + s + "'");
    }
  }
}
