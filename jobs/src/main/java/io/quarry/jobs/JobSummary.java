package io.quarry.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A stage's summary: named counts and facts in insertion order, written as {@code summary.json} and printed by the
 * CLI. Quarantine counts go under keys {@code quarantined.<reason>}.
 */
public final class JobSummary {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private final Map<String, Object> values = new LinkedHashMap<>();

  public JobSummary(String stage) {
    values.put("stage", stage);
  }

  public JobSummary put(String key, Object value) {
    values.put(key, value);
    return this;
  }

  public Object get(String key) {
    return values.get(key);
  }

  public Map<String, Object> values() {
    return values;
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(values);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
