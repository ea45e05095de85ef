package io.quarry.core.config;

import java.util.Set;

/**
 * Labeled queries and how retrieval over them is measured.
 *
 * @param format {@code beir} (queries.jsonl + qrels tsv) or {@code trec} (topics + qrels)
 * @param queries queries file
 * @param qrels relevance judgments file
 * @param runId name of this evaluation's output directory under {@code paths.eval}
 * @param k depth of every run (documents per query)
 * @param nprobe IVF lists probed per query
 * @param candidates chunk candidates taken from the dense stage before aggregation to documents
 */
public record EvaluationConfig(
    String format, String queries, String qrels, String runId, int k, int nprobe, int candidates)
    implements ConfigSection {

  public static final Set<String> FORMATS = Set.of("beir", "trec");

  @Override
  public void validate(String path, Violations v) {
    v.check(FORMATS.contains(format), path + ".format", "must be one of " + FORMATS + ", got '" + format + "'");
    v.notBlank(queries, path + ".queries");
    v.notBlank(qrels, path + ".qrels");
    v.notBlank(runId, path + ".runId");
    v.positive(k, path + ".k");
    v.positive(nprobe, path + ".nprobe");
    v.check(candidates >= k, path + ".candidates", "must be >= k (" + k + "), got " + candidates);
  }
}
