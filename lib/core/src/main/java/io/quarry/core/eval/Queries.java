package io.quarry.core.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Labeled query texts by query id, in input order.
 *
 * <p>Formats: {@code beir} — BEIR {@code queries.jsonl}, one JSON object per line with string {@code _id} and
 * {@code text} (other fields, e.g. {@code metadata}, are ignored and never used as retrieval input); {@code trec} —
 * either classic SGML topics ({@code <top> <num> Number: 301 <title> ... </top>}, the query text is the
 * {@code <title>} field, as in trec_eval-based "title" runs) or a two-column TSV {@code qid<TAB>text} (Anserini's
 * topic files). CRLF line endings are accepted.
 */
public final class Queries {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern TOP = Pattern.compile("<top>(.*?)</top>", Pattern.DOTALL | Pattern.CASE_INSENSITIVE);
  private static final Pattern NUM = Pattern.compile("<num>\\s*(?:Number:)?\\s*(\\S+)", Pattern.CASE_INSENSITIVE);
  private static final Pattern TITLE = Pattern.compile("<title>\\s*(?:Topic:)?(.*?)(?=<[a-z]+>|</top>|\\z)",
      Pattern.DOTALL | Pattern.CASE_INSENSITIVE);

  private Queries() {}

  /**
   * Reads queries in {@code format} ({@code beir} or {@code trec}).
   *
   * @param source file path or URI, for error messages
   * @return query id to query text, input order
   * @throws EvalInputException naming the source, line and field on malformed input or a duplicate id
   */
  public static Map<String, String> read(String format, String source, BufferedReader in) {
    return switch (format) {
      case "beir" -> readBeir(source, in);
      case "trec" -> readTrec(source, in);
      default -> throw new IllegalArgumentException("unknown queries format '" + format + "' (expected beir or trec)");
    };
  }

  private static Map<String, String> readBeir(String source, BufferedReader in) {
    Map<String, String> out = new LinkedHashMap<>();
    int lineNo = 0;
    try {
      String line;
      while ((line = in.readLine()) != null) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode n;
        try {
          n = JSON.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new EvalInputException(source, lineNo, "not a JSON object: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) {
          throw new EvalInputException(source, lineNo, "not a JSON object");
        }
        JsonNode id = n.get("_id");
        JsonNode text = n.get("text");
        if (id == null || !id.isValueNode() || id.asText().isBlank()) {
          throw new EvalInputException(source, lineNo, "field '_id' missing or empty");
        }
        if (text == null || !text.isTextual()) {
          throw new EvalInputException(source, lineNo, "field 'text' missing or not a string");
        }
        put(out, id.asText(), text.asText(), source, lineNo);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(source + ": cannot read queries", e);
    }
    return Collections.unmodifiableMap(out);
  }

  private static Map<String, String> readTrec(String source, BufferedReader in) {
    StringBuilder all = new StringBuilder();
    try {
      String line;
      while ((line = in.readLine()) != null) {
        all.append(Qrels.stripCr(line)).append('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(source + ": cannot read topics", e);
    }
    String text = all.toString();
    Map<String, String> out = new LinkedHashMap<>();
    if (text.toLowerCase(java.util.Locale.ROOT).contains("<top>")) {
      Matcher top = TOP.matcher(text);
      int count = 0;
      while (top.find()) {
        count++;
        int line = 1 + (int) text.substring(0, top.start()).chars().filter(c -> c == '\n').count();
        String body = top.group(1);
        Matcher num = NUM.matcher(body);
        if (!num.find()) {
          throw new EvalInputException(source, line, "topic " + count + " has no <num> field");
        }
        Matcher title = TITLE.matcher(body);
        if (!title.find() || title.group(1).isBlank()) {
          throw new EvalInputException(source, line, "topic '" + num.group(1) + "' has no <title> text");
        }
        String t = title.group(1).replace("</title>", " ").trim().replaceAll("\\s+", " ");
        put(out, num.group(1), t, source, line);
      }
    } else {
      String[] lines = text.split("\n", -1);
      for (int i = 0; i < lines.length; i++) {
        if (lines[i].isBlank()) {
          continue;
        }
        int tab = lines[i].indexOf('\t');
        if (tab <= 0) {
          throw new EvalInputException(source, i + 1, "expected 'qid<TAB>text' (or SGML <top> topics)");
        }
        put(out, lines[i].substring(0, tab).trim(), lines[i].substring(tab + 1).trim(), source, i + 1);
      }
    }
    if (out.isEmpty()) {
      throw new EvalInputException(source, 0, "no queries found");
    }
    return Collections.unmodifiableMap(out);
  }

  private static void put(Map<String, String> out, String id, String text, String source, int line) {
    if (out.putIfAbsent(id, text) != null) {
      throw new EvalInputException(source, line, "duplicate query id '" + id + "'");
    }
  }
}
