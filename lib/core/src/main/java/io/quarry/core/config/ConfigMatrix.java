package io.quarry.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An experiment's axes in a config file: the top-level {@code matrix} section ({@code quarry pipeline --matrix}'s
 * counterpart), read apart from the run's settings.
 */
public final class ConfigMatrix {
  private ConfigMatrix() {}

  /** Top-level key of an experiment's axes in a config file ({@link #axes(List)}). */
  public static final String KEY = "matrix";

  /**
   * The experiment axes of the files' top-level {@code matrix} sections ({@code quarry pipeline}'s matrix, besides
   * its {@code --matrix} flags), e.g. {@code matrix: {embedding.model: [a, b], quantizer.spec: [x, y]}}: dotted config
   * key to its values, in file order; a later file's key replaces an earlier one's. A value may be a scalar (one
   * value) or a list of scalars, lists or mappings (each becomes the {@code --set} value, lists and mappings in
   * JSON, a YAML flow). {@link ConfigLoader#load} leaves the section out of the run's config and reports its problems
   * with the config's: not a mapping, an empty list, a value given twice, a {@code paths.*} key (the matrix sets the
   * paths).
   *
   * @return key to values, empty when no file has a matrix
   * @throws ConfigException listing every problem of the sections
   */
  public static Map<String, List<String>> axes(List<ConfigLoader.Source> files) {
    Map<String, List<String>> axes = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (ConfigLoader.Source f : files) {
      JsonNode node;
      try {
        node = ConfigLoader.yaml().readTree(f.yaml());
      } catch (JsonProcessingException e) {
        continue; // load reports it
      }
      if (node != null && node.isObject() && node.has(KEY)) {
        problems.addAll(axes(node.get(KEY), f.name(), axes));
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return axes;
  }

  /**
   * Reads one file's {@code matrix} section {@code m} into {@code axes} (a key given again replaces the earlier
   * values) and returns its problems, each with the key's path.
   */
  static List<String> axes(JsonNode m, String file, Map<String, List<String>> axes) {
    List<String> problems = new ArrayList<>();
    if (!m.isObject()) {
      problems.add(KEY + ": must be a mapping of config keys to lists of values (" + file + ")");
      return problems;
    }
    m.fields().forEachRemaining(e -> {
      String key = e.getKey().strip();
      String path = KEY + "." + key;
      if (key.isEmpty() || key.startsWith("paths.") || key.equals(KEY)) {
        problems.add(path + ": " + (key.isEmpty() ? "empty key" : "not an axis: paths are set per variant by the "
            + "matrix (under <paths.work>/matrix)"));
        return;
      }
      List<JsonNode> items = new ArrayList<>();
      if (e.getValue().isArray()) {
        e.getValue().forEach(items::add);
      } else {
        items.add(e.getValue());
      }
      List<String> values = new ArrayList<>();
      for (JsonNode v : items) {
        String s = v.isValueNode() ? v.asText().strip() : v.toString();
        if (v.isNull() || s.isEmpty()) {
          problems.add(path + ": empty value");
        } else if (values.contains(s)) {
          problems.add(path + ": value " + s + " given twice");
        } else {
          values.add(s);
        }
      }
      if (items.isEmpty()) {
        problems.add(path + ": no value (a list of at least one)");
      }
      axes.put(key, values);
    });
    return problems;
  }
}
