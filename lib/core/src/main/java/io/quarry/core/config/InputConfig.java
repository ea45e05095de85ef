package io.quarry.core.config;

import java.util.Set;

/**
 * The document collection to index.
 *
 * @param format {@code beir} (BEIR corpus.jsonl: {@code _id}, {@code title}, {@code text}), {@code jsonl}
 *     (fields named below), {@code parquet}, or {@code text} (a directory of .txt/.md/.html files)
 * @param corpus path of the corpus file or directory (any Hadoop filesystem URI)
 * @param idField document id field for {@code jsonl}/{@code parquet}
 * @param titleField title field (may be absent in records) for {@code jsonl}/{@code parquet}
 * @param textField text field for {@code jsonl}/{@code parquet}
 * @param maxDocChars documents longer than this (in UTF-16 chars) are quarantined, not indexed
 */
public record InputConfig(
    String format, String corpus, String idField, String titleField, String textField, long maxDocChars)
    implements ConfigSection {

  public static final Set<String> FORMATS = Set.of("beir", "jsonl", "parquet", "text");

  @Override
  public void validate(String path, Violations v) {
    v.check(FORMATS.contains(format), path + ".format", "must be one of " + FORMATS + ", got '" + format + "'");
    v.notBlank(corpus, path + ".corpus");
    v.notBlank(idField, path + ".idField");
    v.notBlank(textField, path + ".textField");
    v.positive(maxDocChars, path + ".maxDocChars");
  }
}
