package io.quarry.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarry.core.search.FusionSpec;
import io.quarry.core.search.HybridSearcher;
import io.quarry.core.search.SearchOptions;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The JSON contract of {@code POST /search}: strict request parsing (unknown fields, wrong types and out-of-range
 * values are a {@link BadRequest} with a message naming the field) and the response body.
 *
 * <p>Request: {@code {"query": str (required, 1..maxQueryChars chars), "k": int 1..maxK (10), "mode":
 * "bm25"|"ivfpq"|"rescore"|"hybrid" ("hybrid"; the deprecated "dense" is read as "rescore", with a warning),
 * "nprobe": int 1..maxNprobe, "bm25Depth" / "denseDepth": int k..maxDepth,
 * "fusion": str (e.g. "rrf:k=60", "wrrf:k=60,alpha=0.7", "convex:zscore,alpha=0.7", "…,level=doc"), "rescoreDepth": int
 * 0..maxDepth (100; rescore mode), "rerank": bool (false), "rerankDepth": int 1..maxDepth (max(rescoreDepth, k)),
 * "withText": bool (true)}}. {@code nprobe}, the depths and {@code fusion} default to the index version's tuned
 * setting ({@code quarry tune}), else 16, max(100, k) and {@code convex:zscore,alpha=0.7}.
 *
 * <p>Response: {@code {"version", "mode", "k", "fusion", "nprobe", "tookMs", "stagesMs": {stage: ms}, "hits":
 * [{"rank", "docId", "chunkId", "ordinal", "startChar", "endChar", "score", "text", "scores": {"bm25", "ivfpq",
 * "rescore", "hybrid", "cross-encoder"}, "ranks": {...}}], "warnings": [str]}}; per-stage entries are present only
 * for stages that ranked the hit ({@code ivfpq} is the ADC score, {@code rescore} the score re-computed from the
 * stored vectors, float32 or sq8: the stage vocabulary of {@link io.quarry.core.search.Stages}); {@code warnings}
 * only when the request used a deprecated name.
 */
public final class SearchApi {
  static final ObjectMapper JSON = new ObjectMapper();

  static final Set<String> FIELDS = Set.of("query", "k", "mode", "nprobe", "bm25Depth", "denseDepth", "rescoreDepth",
      "rerank", "rerankDepth", "fusion", "withText");

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
   * A parsed request and the deprecation warnings its spelling earned (returned to the client in the response).
   */
  public record Parsed(HybridSearcher.Request request, java.util.List<String> warnings) {}

  /**
   * Parses and bounds a request body.
   *
   * @throws BadRequest naming the offending field
   */
  public static HybridSearcher.Request parse(byte[] body, Limits limits) throws BadRequest {
    return parseRequest(body, limits).request();
  }

  /**
   * Parses and bounds a request body, with the warnings for deprecated spellings.
   *
   * @throws BadRequest naming the offending field
   */
  public static Parsed parseRequest(byte[] body, Limits limits) throws BadRequest {
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
    java.util.List<String> warnings = new java.util.ArrayList<>();
    SearchOptions.Mode mode = mode(n.get("mode"), warnings);
    int k = integer(n, "k", 10, 1, limits.maxK());
    Integer nprobe = optionalInteger(n, "nprobe", 1, limits.maxNprobe());
    Integer bm25Depth = optionalInteger(n, "bm25Depth", k, limits.maxDepth());
    Integer denseDepth = optionalInteger(n, "denseDepth", k, limits.maxDepth());
    int defDepth = Math.min(Math.max(SearchOptions.DEFAULT_DEPTH, k), limits.maxDepth());
    int rescoreDepth = integer(n, "rescoreDepth", defDepth, 0, limits.maxDepth());
    FusionSpec fusion = null;
    JsonNode f = n.get("fusion");
    if (f != null) {
      if (!f.isTextual()) {
        throw new BadRequest("field 'fusion' must be a string such as rrf:k=60 or convex:zscore,alpha=0.7");
      }
      try {
        fusion = FusionSpec.parse(f.asText());
      } catch (IllegalArgumentException e) {
        throw new BadRequest("field 'fusion': " + e.getMessage());
      }
    }
    boolean rerank = bool(n, "rerank", false);
    int rerankDepth = integer(n, "rerankDepth", Math.min(Math.max(rescoreDepth, k), limits.maxDepth()), 1,
        limits.maxDepth());
    boolean withText = bool(n, "withText", true);
    return new Parsed(new HybridSearcher.Request(query, SearchOptions.builder().k(k).mode(mode).nprobe(nprobe)
        .bm25Depth(bm25Depth).denseDepth(denseDepth).rescoreDepth(rescoreDepth).fusion(fusion).rerank(rerank)
        .rerankDepth(rerankDepth).withText(withText).build()), java.util.List.copyOf(warnings));
  }

  private static SearchOptions.Mode mode(JsonNode m, java.util.List<String> warnings) throws BadRequest {
    if (m == null) {
      return SearchOptions.Mode.HYBRID;
    }
    if (!m.isTextual()) {
      throw new BadRequest("field 'mode' must be a string: " + SearchOptions.Mode.NAMES);
    }
    SearchOptions.Mode mode;
    try {
      mode = SearchOptions.Mode.parse(m.asText());
    } catch (IllegalArgumentException e) {
      throw new BadRequest("field 'mode' must be " + SearchOptions.Mode.NAMES);
    }
    if (SearchOptions.Mode.isDeprecated(m.asText())) {
      warnings.add("mode '" + m.asText() + "' is deprecated; it is read as '" + mode.label() + "' (ADC candidates "
          + "re-scored with the stored vectors); use '" + mode.label() + "', or 'ivfpq' for ADC alone");
    }
    return mode;
  }

  private static Integer optionalInteger(JsonNode n, String field, int min, int max) throws BadRequest {
    return n.get(field) == null ? null : integer(n, field, min, min, max);
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
    return response(version, r, res, tookNanos, java.util.List.of());
  }

  /** The response body for a result, with the request's deprecation warnings (no field when there are none). */
  public static ObjectNode response(String version, HybridSearcher.Request r, HybridSearcher.Result res,
      long tookNanos, java.util.List<String> warnings) {
    ObjectNode o = JSON.createObjectNode();
    SearchOptions used = res.options();
    o.put("version", version);
    o.put("mode", used.mode().label());
    o.put("k", used.k());
    if (used.mode() == SearchOptions.Mode.HYBRID) {
      o.put("fusion", used.fusion().toString());
    }
    if (used.mode() != SearchOptions.Mode.BM25) {
      o.put("nprobe", used.nprobe());
    }
    if (!warnings.isEmpty()) {
      ArrayNode w = o.putArray("warnings");
      warnings.forEach(w::add);
    }
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
      for (Map.Entry<String, HybridSearcher.StageScore> e : h.stages().entrySet()) {
        s.put(e.getKey(), e.getValue().score());
        rk.put(e.getKey(), e.getValue().rank());
      }
    }
    return o;
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
