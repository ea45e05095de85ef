package io.quarry.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.search.Rrf;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The JSON contract of {@code POST /search}: strict request parsing (unknown fields, wrong types and out-of-range
 * values are a {@link BadRequest} with a message naming the field) and the response body.
 *
 * <p>Request: {@code {"query": str (required, 1..maxQueryChars chars), "k": int 1..maxK (10), "mode":
 * "bm25"|"dense"|"hybrid" ("hybrid"), "nprobe": int 1..maxNprobe (16), "bm25Depth" / "denseDepth": int k..maxDepth
 * (100), "rescoreDepth": int 0..maxDepth (100), "rerank": bool (false), "rerankDepth": int
 * 1..maxDepth (max(rescoreDepth, k)), "rrfK": int 1..1000 (60), "withText": bool
 * (true)}}.
 *
 * <p>Response: {@code {"version", "mode", "k", "tookMs", "stagesMs": {stage: ms}, "hits": [{"rank", "docId",
 * "chunkId", "ordinal", "startChar", "endChar", "score", "text", "scores": {"bm25", "dense", "rrf", "exact",
 * "rerank"}, "ranks": {...}}]}}; per-stage entries are present only for stages that ranked the hit.
 */
public final class SearchApi {
  static final ObjectMapper JSON = new ObjectMapper();

  static final Set<String> FIELDS = Set.of("query", "k", "mode", "nprobe", "bm25Depth", "denseDepth", "rescoreDepth",
      "rerank", "rerankDepth", "rrfK", "withText");

  /**
   * Request bounds.
   *
   * @param maxQueryChars longest query (UTF-16 chars)
   * @param maxK largest k
   * @param maxDepth largest candidate depth
   * @param maxNprobe largest nprobe
   * @param maxBodyBytes largest request body
   */
  public record Limits(int maxQueryChars, int maxK, int maxDepth, int maxNprobe, int maxBodyBytes) {
    public static Limits defaults() {
      return new Limits(2000, 100, 1000, 1024, 16384);
    }
  }

  /** A request the server refuses with HTTP 400. */
  public static final class BadRequest extends Exception {
    private static final long serialVersionUID = 1L;

    public BadRequest(String message) {
      super(message);
    }
  }

  private SearchApi() {}

  /**
   * Parses and bounds a request body.
   *
   * @throws BadRequest naming the offending field
   */
  public static HybridSearcher.Request parse(byte[] body, Limits limits) throws BadRequest {
    JsonNode n;
    try {
      n = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new BadRequest("invalid JSON: " + e.getOriginalMessage());
    } catch (java.io.IOException e) {
      throw new BadRequest("unreadable body");
    }
    if (n == null || !n.isObject()) {
      throw new BadRequest("body must be a JSON object");
    }
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!FIELDS.contains(f)) {
        throw new BadRequest("unknown field '" + (f.length() > 40 ? f.substring(0, 40) + "…" : f)
            + "' (allowed: " + new java.util.TreeSet<>(FIELDS) + ")");
      }
    }
    JsonNode q = n.get("query");
    if (q == null || !q.isTextual()) {
      throw new BadRequest("field 'query' is required and must be a string");
    }
    String query = q.asText();
    if (query.isBlank()) {
      throw new BadRequest("field 'query' must not be blank");
    }
    if (query.length() > limits.maxQueryChars()) {
      throw new BadRequest("field 'query' is " + query.length() + " chars; the limit is " + limits.maxQueryChars());
    }
    HybridSearcher.Mode mode;
    JsonNode m = n.get("mode");
    if (m == null) {
      mode = HybridSearcher.Mode.HYBRID;
    } else if (!m.isTextual()) {
      throw new BadRequest("field 'mode' must be a string: bm25, dense or hybrid");
    } else {
      try {
        mode = HybridSearcher.Mode.parse(m.asText());
      } catch (IllegalArgumentException e) {
        throw new BadRequest("field 'mode' must be bm25, dense or hybrid");
      }
    }
    int k = integer(n, "k", 10, 1, limits.maxK());
    int nprobe = integer(n, "nprobe", 16, 1, limits.maxNprobe());
    int defDepth = Math.max(100, k);
    int bm25Depth = integer(n, "bm25Depth", Math.min(defDepth, limits.maxDepth()), k, limits.maxDepth());
    int denseDepth = integer(n, "denseDepth", Math.min(defDepth, limits.maxDepth()), k, limits.maxDepth());
    int rescoreDepth = integer(n, "rescoreDepth", Math.min(defDepth, limits.maxDepth()), 0, limits.maxDepth());
    int rrfK = integer(n, "rrfK", Rrf.DEFAULT_K, 1, 1000);
    boolean rerank = bool(n, "rerank", false);
    int rerankDepth = integer(n, "rerankDepth", Math.min(Math.max(rescoreDepth, k), limits.maxDepth()), 1,
        limits.maxDepth());
    boolean withText = bool(n, "withText", true);
    return new HybridSearcher.Request(query, k, mode, nprobe, denseDepth, bm25Depth, rescoreDepth, rerank,
        rerankDepth, rrfK, withText);
  }

  private static int integer(JsonNode n, String field, int def, int min, int max) throws BadRequest {
    JsonNode v = n.get(field);
    if (v == null) {
      return def;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new BadRequest("field '" + field + "' must be an integer in [" + min + ", " + max + "]");
    }
    int x = v.intValue();
    if (x < min || x > max) {
      throw new BadRequest("field '" + field + "' = " + x + " is outside [" + min + ", " + max + "]");
    }
    return x;
  }

  private static boolean bool(JsonNode n, String field, boolean def) throws BadRequest {
    JsonNode v = n.get(field);
    if (v == null) {
      return def;
    }
    if (!v.isBoolean()) {
      throw new BadRequest("field '" + field + "' must be true or false");
    }
    return v.booleanValue();
  }

  /** The response body for a result. */
  public static ObjectNode response(String version, HybridSearcher.Request r, HybridSearcher.Result res,
      long tookNanos) {
    ObjectNode o = JSON.createObjectNode();
    o.put("version", version);
    o.put("mode", r.mode().name().toLowerCase(java.util.Locale.ROOT));
    o.put("k", r.k());
    o.put("tookMs", tookNanos / 1e6);
    ObjectNode st = o.putObject("stagesMs");
    for (Map.Entry<String, Long> e : res.stageNanos().entrySet()) {
      st.put(e.getKey(), e.getValue() / 1e6);
    }
    ArrayNode hits = o.putArray("hits");
    int rank = 1;
    for (HybridSearcher.Hit h : res.hits()) {
      ObjectNode x = hits.addObject();
      x.put("rank", rank++);
      x.put("docId", h.docId());
      x.put("chunkId", h.chunkId());
      x.put("ordinal", h.ordinal());
      x.put("startChar", h.startChar());
      x.put("endChar", h.endChar());
      x.put("score", h.score());
      if (h.text() != null) {
        x.put("text", h.text());
      }
      ObjectNode s = x.putObject("scores");
      ObjectNode rk = x.putObject("ranks");
      put(s, rk, "bm25", h.bm25Score(), h.bm25Rank());
      put(s, rk, "dense", h.denseScore(), h.denseRank());
      put(s, rk, "rrf", h.rrfScore(), h.rrfRank());
      put(s, rk, "exact", h.exactScore(), h.exactRank());
      put(s, rk, "rerank", h.rerankScore(), h.rerankRank());
    }
    return o;
  }

  private static void put(ObjectNode s, ObjectNode r, String name, Float score, Integer rank) {
    if (score != null) {
      s.put(name, score);
      r.put(name, rank);
    }
  }

  /** {@code {"error": message}}. */
  public static byte[] error(String message) {
    try {
      return JSON.writeValueAsBytes(JSON.createObjectNode().put("error", message));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
