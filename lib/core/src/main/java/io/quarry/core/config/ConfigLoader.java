package io.quarry.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Builds a {@link QuarryConfig} from YAML layers. Precedence, lowest to highest (the one place it is defined):
 *
 * <ol>
 *   <li>built-in defaults ({@code io/quarry/core/config/defaults.yaml} in this jar);
 *   <li>the config files, in the order given (e.g. {@code conf/quarry.yaml}, then an environment file such as
 *       {@code conf/env/prod.yaml});
 *   <li>{@code --set key.path=value} overrides, in the order given (values are parsed as YAML scalars).
 * </ol>
 *
 * <p>Maps merge key by key; any other value replaces the lower layer's. A key given twice in one file is an error
 * (not a silent replacement), reported with its full key path and line for every duplicate. Unknown keys, wrong
 * types (every one: a field of the wrong type is reported and replaced by its default so that the value checks still
 * run), invalid values and the caller's further checks (e.g. that the inputs exist) are all collected and thrown
 * together as one {@link ConfigException} before any work starts.
 */
public final class ConfigLoader {
  // Duplicate keys (e.g. a second "quantizer:" section) are found by duplicateKeys, all of them with their paths;
  // Jackson's own detection would stop at the first one and hide every other problem of the file.
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
      .enable(SerializationFeature.INDENT_OUTPUT);

  private ConfigLoader() {}

  /** The YAML reader of config files (one configuration of Jackson for every reader of them). */
  static ObjectMapper yaml() {
    return YAML;
  }

  /** A named YAML document, e.g. a file's path and its text. */
  public record Source(String name, String yaml) {}

  /**
   * Loads, merges, binds and validates.
   *
   * @param files YAML documents, lowest precedence first (may be empty: defaults only)
   * @param overrides {@code dotted.key=value} strings, applied last
   * @throws ConfigException listing every problem (unknown keys, types, values, cross-field rules)
   */
  public static QuarryConfig load(List<Source> files, List<String> overrides) {
    return load(files, overrides, c -> List.of());
  }

  /**
   * {@link #load(List, List)} with further checks of the bound config, e.g. that its inputs exist
   * ({@link ConfigInputs}). They run even when the config has value errors, so that every problem is reported in one
   * go; a problem of theirs on a key that already has one (as {@code key: ...}) is left out.
   *
   * @param furtherChecks problems of a bound config, each as {@code dotted.key: message}
   * @throws ConfigException listing every problem
   */
  public static QuarryConfig load(List<Source> files, List<String> overrides,
      Function<QuarryConfig, List<String>> furtherChecks) {
    List<String> problems = new ArrayList<>();
    ObjectNode merged = defaults();
    boolean unparsable = false;
    for (Source f : files) {
      JsonNode node;
      try {
        node = YAML.readTree(f.yaml());
      } catch (JsonProcessingException e) {
        problems.add(f.name() + ": not valid YAML: " + e.getOriginalMessage()
            + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        unparsable = true;
        continue;
      }
      problems.addAll(duplicateKeys(f));
      if (node == null || node.isMissingNode() || node.isNull()) {
        continue;
      }
      if (!node.isObject()) {
        problems.add(f.name() + ": top level must be a mapping");
        continue;
      }
      JsonNode matrix = ((ObjectNode) node).remove(ConfigMatrix.KEY); // an experiment's axes: not a setting of one run
      if (matrix != null) {
        problems.addAll(ConfigMatrix.axes(matrix, f.name(), new LinkedHashMap<>()));
      }
      merge(merged, (ObjectNode) node);
    }
    for (String o : overrides) {
      int eq = o.indexOf('=');
      if (eq <= 0) {
        problems.add("--set " + o + ": expected key.path=value");
        continue;
      }
      set(merged, o.substring(0, eq).trim(), o.substring(eq + 1), problems);
    }
    // Unknown keys are reported and dropped, so that the value checks below still run and every problem is
    // reported in one go.
    checkKeys(merged, QuarryConfig.class, "", problems);
    if (unparsable) {
      throw new ConfigException(problems); // binding what is left of the layers would report misleading values
    }
    checkTypes(merged, defaults(), QuarryConfig.class, "", problems);
    QuarryConfig config;
    try {
      config = YAML.treeToValue(merged, QuarryConfig.class);
    } catch (MismatchedInputException e) {
      problems.add(pathOf(e) + ": " + e.getOriginalMessage());
      throw new ConfigException(problems);
    } catch (JsonProcessingException e) {
      problems.add("config: " + e.getOriginalMessage());
      throw new ConfigException(problems);
    }
    try {
      config.validate();
    } catch (ConfigException e) {
      problems.addAll(e.violations());
    }
    List<String> known = List.copyOf(problems);
    for (String p : furtherChecks.apply(config)) {
      int colon = p.indexOf(": ");
      String key = colon < 0 ? p : p.substring(0, colon);
      if (known.stream().noneMatch(k -> k.startsWith(key + ": ") || k.startsWith(key + "."))) {
        problems.add(p);
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return config;
  }

  /** The resolved config as canonical JSON (keys sorted): what manifests and reports record. */
  public static String toJson(QuarryConfig config) {
    try {
      return JSON.writeValueAsString(JSON.readTree(JSON.writeValueAsString(config)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Hex SHA-256 of {@link #toJson}: identifies a resolved config in manifests and reports. */
  public static String hash(QuarryConfig config) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(toJson(config).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ObjectNode defaults() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream("defaults.yaml")) {
      return (ObjectNode) YAML.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read built-in config defaults", e);
    }
  }

  /**
   * Every key given twice in one mapping of {@code f}, as {@code full.key.path: duplicate key at <file>:<line>
   * (first at line N)}, read with SnakeYAML's node API (which keeps every key of a mapping, duplicates included).
   * Empty when the text does not compose (the caller reports its syntax error).
   */
  static List<String> duplicateKeys(Source f) {
    Node root;
    try {
      root = new Yaml(new LoaderOptions()).compose(new StringReader(f.yaml()));
    } catch (RuntimeException e) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    duplicateKeys(root, "", f.name(), out, java.util.Collections.newSetFromMap(new IdentityHashMap<>()));
    return out;
  }

  private static void duplicateKeys(Node node, String path, String file, List<String> out, Set<Node> seen) {
    if (node == null || !seen.add(node)) { // an alias repeats a node already walked
      return;
    }
    if (node instanceof MappingNode m) {
      Map<String, Integer> firstLine = new HashMap<>();
      for (NodeTuple t : m.getValue()) {
        String key = t.getKeyNode() instanceof ScalarNode s ? s.getValue() : null;
        String p = key == null ? path : path.isEmpty() ? key : path + "." + key;
        if (key != null) {
          int line = t.getKeyNode().getStartMark().getLine() + 1;
          Integer first = firstLine.putIfAbsent(key, line);
          if (first != null) {
            out.add(p + ": duplicate key at " + file + ":" + line + " (first at line " + first + ")");
          }
        }
        duplicateKeys(t.getValueNode(), p, file, out, seen);
      }
    } else if (node instanceof SequenceNode s) {
      for (int i = 0; i < s.getValue().size(); i++) {
        duplicateKeys(s.getValue().get(i), path + "[" + i + "]", file, out, seen);
      }
    }
  }

  private static void merge(ObjectNode base, ObjectNode top) {
    for (Iterator<Map.Entry<String, JsonNode>> it = top.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode old = base.get(e.getKey());
      if (old instanceof ObjectNode o && e.getValue() instanceof ObjectNode n) {
        merge(o, n);
      } else {
        base.set(e.getKey(), e.getValue());
      }
    }
  }

  private static void set(ObjectNode root, String dotted, String rawValue, List<String> problems) {
    String[] parts = dotted.split("\\.");
    // spark.conf keys themselves contain dots: everything after "spark.conf." is one key.
    if (parts.length > 2 && parts[0].equals("spark") && parts[1].equals("conf")) {
      parts = new String[] {"spark", "conf", dotted.substring("spark.conf.".length())};
    }
    ObjectNode node = root;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonNode child = node.get(parts[i]);
      if (child == null) {
        child = node.putObject(parts[i]);
      } else if (!child.isObject()) {
        problems.add("--set " + dotted + ": " + parts[i] + " is not a section");
        return;
      }
      node = (ObjectNode) child;
    }
    JsonNode value;
    try {
      value = rawValue.isEmpty() ? YAML.getNodeFactory().nullNode() : YAML.readTree(rawValue);
    } catch (JsonProcessingException e) {
      value = YAML.getNodeFactory().textNode(rawValue);
    }
    if (value == null || value.isMissingNode()) {
      value = YAML.getNodeFactory().nullNode();
    }
    node.set(parts[parts.length - 1], value);
  }

  /** Reports every key that no record component of {@code type} (recursively) accepts. */
  private static void checkKeys(JsonNode node, Class<?> type, String prefix, List<String> problems) {
    if (!type.isRecord() || !node.isObject()) {
      return;
    }
    RecordComponent[] components = type.getRecordComponents();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      JsonNode value = node.get(key);
      RecordComponent match = null;
      for (RecordComponent c : components) {
        if (c.getName().equals(key)) {
          match = c;
        }
      }
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      if (match == null) {
        List<String> known = new ArrayList<>();
        for (RecordComponent c : components) {
          known.add(c.getName());
        }
        problems.add(path + ": unknown key (known: " + String.join(", ", known) + ")");
        it.remove();
      } else if (match.getType().isRecord()) {
        checkKeys(value, match.getType(), path, problems);
      } else if (Map.class.isAssignableFrom(match.getType())) {
        Type g = match.getGenericType();
        if (g instanceof ParameterizedType p && p.getActualTypeArguments()[1] instanceof Class<?> vc
            && vc.isRecord()) {
          for (Iterator<String> mk = value.fieldNames(); mk.hasNext(); ) {
            String k = mk.next();
            checkKeys(value.get(k), vc, path + "." + k, problems);
          }
        }
      }
    }
  }

  /**
   * Binds every field of {@code type} on its own, so that every wrong type is reported (binding the whole record
   * stops at the first). A field that does not bind is replaced by its default (or removed), so that the whole
   * config still binds and its value checks run.
   */
  private static void checkTypes(ObjectNode node, JsonNode defaults, Class<?> type, String prefix,
      List<String> problems) {
    for (RecordComponent c : type.getRecordComponents()) {
      JsonNode value = node.get(c.getName());
      if (value == null) {
        continue;
      }
      String path = prefix.isEmpty() ? c.getName() : prefix + "." + c.getName();
      JsonNode def = defaults == null ? null : defaults.get(c.getName());
      if (c.getType().isRecord() && value instanceof ObjectNode o) {
        checkTypes(o, def, c.getType(), path, problems);
        continue;
      }
      try {
        YAML.treeToValue(value, YAML.getTypeFactory().constructType(c.getGenericType()));
      } catch (JsonProcessingException | IllegalArgumentException e) {
        String msg = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        problems.add(path + ": wrong type (" + describe(value) + "): " + msg);
        if (def != null) {
          node.set(c.getName(), def.deepCopy());
        } else {
          node.remove(c.getName());
        }
      }
    }
  }

  private static String describe(JsonNode v) {
    String t = v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    return v.isValueNode() ? t + " '" + v.asText() + "'" : t;
  }

  private static String pathOf(MismatchedInputException e) {
    StringBuilder sb = new StringBuilder();
    for (var ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(ref.getFieldName());
      } else {
        sb.append('[').append(ref.getIndex()).append(']');
      }
    }
    return sb.length() == 0 ? "config" : sb.toString();
  }
}
