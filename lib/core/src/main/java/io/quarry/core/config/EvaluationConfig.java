package io.quarry.core.config;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Labeled queries and how retrieval over them is measured.
 *
 * @param format {@code beir} (queries.jsonl + qrels tsv) or {@code trec} (topics + qrels)
 * @param queries queries file
 * @param qrels relevance judgments file; a {@code {split}} in the path is replaced by {@code split}
 * @param split qrels split (BEIR: {@code test}, {@code dev}, {@code train}); only used to fill {@code {split}}
 * @param runId name of this evaluation's output directory under {@code paths.eval}
 * @param k depth of every run (documents per query)
 * @param nprobe IVF lists probed per query
 * @param candidates chunk candidates taken from each first stage (dense, BM25) before fusion/aggregation
 * @param fusion fusion of the {@code hybrid} stage: {@code auto} (the index version's tuned setting — fusion, nprobe
 *     and depths, see {@code quarry tune} — else {@link io.quarry.core.search.FusionSpec#DEFAULT} at {@code nprobe}
 *     and {@code candidates}), or a fusion spec ({@code rrf:k=60}, {@code wrrf:k=60,alpha=0.7},
 *     {@code convex:zscore,alpha=0.7}) used at {@code nprobe} and {@code candidates}
 * @param metrics metrics reported, Quarry or trec_eval names (e.g. {@code nDCG@10}, {@code ndcg_cut_10})
 * @param stages stages evaluated, in order: {@code bm25}, {@code exact} (brute-force float search), {@code ivfpq}
 *     (IVF-PQ ADC), {@code rescore} (IVF-PQ + re-scoring with the stored vectors), {@code hybrid} (BM25 ∪ IVF-PQ
 *     candidates, re-scored, fused), {@code cross-encoder}; a stage the index cannot run is skipped with a note. The
 *     names before issue 24, {@code dense-exact} and {@code dense-ivfpq}, are read with a deprecation warning
 * @param crossEncoder directory (any Hadoop path) with a cross-encoder's {@code model.onnx} and {@code
 *     tokenizer.json} for the {@code cross-encoder} stage; blank: no cross-encoder, the stage is skipped with a note
 * @param crossEncoderDepth chunks (the top of the re-scored list) the cross-encoder scores per query
 * @param crossEncoderMaxLength tokens per (query, passage) pair given to the cross-encoder, special tokens included
 * @param annRecallK k of the ANN recall@k of the dense IVF-PQ stage against exact search (chunks)
 * @param sweepNprobe nprobe values swept on the dense IVF-PQ stage (empty: no sweep)
 * @param sweepCandidates candidate depths swept on the final stage (empty: no sweep)
 * @param lossExamples examples of lost relevant documents listed per loss cause in the report
 * @param gate metric name to tolerated absolute drop against a baseline ({@code quarry compare})
 * @param permutations permutations of the paired randomization test
 * @param seed seed of the randomization test
 */
public record EvaluationConfig(
    String format,
    String queries,
    String qrels,
    String split,
    String runId,
    int k,
    int nprobe,
    int candidates,
    String fusion,
    List<String> metrics,
    List<String> stages,
    String crossEncoder,
    int crossEncoderDepth,
    int crossEncoderMaxLength,
    int annRecallK,
    List<Integer> sweepNprobe,
    List<Integer> sweepCandidates,
    int lossExamples,
    Map<String, Double> gate,
    int permutations,
    long seed)
    implements ConfigSection {

  public static final Set<String> FORMATS = Set.of("beir", "trec");
  /** Stage names ({@link io.quarry.core.search.Stages}); the old {@code dense-exact}, {@code dense-ivfpq} are read. */
  public static final List<String> STAGES = io.quarry.core.search.Stages.ALL;

  /** Whether the hybrid stage takes its fusion (and operating point) from the index version. */
  public boolean fusionFromIndex() {
    return fusion == null || fusion.isBlank() || "auto".equalsIgnoreCase(fusion.trim());
  }

  public EvaluationConfig {
    metrics = metrics == null ? List.of() : List.copyOf(metrics);
    stages = stages == null ? List.of()
        : stages.stream().map(st -> io.quarry.core.search.Stages.canonical(st, "evaluation.stages")).toList();
    sweepNprobe = sweepNprobe == null ? List.of() : List.copyOf(sweepNprobe);
    sweepCandidates = sweepCandidates == null ? List.of() : List.copyOf(sweepCandidates);
    gate = gate == null ? Map.of() : Map.copyOf(gate);
  }

  /** Whether a cross-encoder is configured. */
  public boolean hasCrossEncoder() {
    return crossEncoder != null && !crossEncoder.isBlank();
  }

  /** The qrels path with {@code {split}} filled in. */
  public String qrelsPath() {
    return qrels.replace("{split}", split == null ? "" : split);
  }

  @Override
  public void validate(String path, Violations v) {
    v.check(FORMATS.contains(format), path + ".format", "must be one of " + FORMATS + ", got '" + format + "'");
    v.notBlank(queries, path + ".queries");
    v.notBlank(qrels, path + ".qrels");
    v.check(!qrels.contains("{split}") || (split != null && !split.isBlank()), path + ".split",
        "must be set when qrels contains {split}");
    v.notBlank(runId, path + ".runId");
    v.check(runId == null || runId.matches("[A-Za-z0-9._-]+"), path + ".runId",
        "must be a plain directory name ([A-Za-z0-9._-]+), got '" + runId + "'");
    v.positive(k, path + ".k");
    v.positive(nprobe, path + ".nprobe");
    v.check(candidates >= k, path + ".candidates", "must be >= k (" + k + "), got " + candidates);
    if (!fusionFromIndex()) {
      try {
        io.quarry.core.search.FusionSpec.parse(fusion);
      } catch (IllegalArgumentException ex) {
        v.check(false, path + ".fusion", "must be auto or a fusion spec: " + ex.getMessage());
      }
    }
    v.check(!metrics.isEmpty(), path + ".metrics", "must list at least one metric");
    for (String m : metrics) {
      v.check(m.matches("(?i)(ndcg|recall|p|precision|mrr|map|success)(@\\d+)?|(ndcg_cut|recall|p|map_cut|success)"
          + "[_.]\\d+|map|recip_rank"), path + ".metrics", "unknown metric '" + m + "'");
    }
    v.check(!stages.isEmpty(), path + ".stages", "must list at least one stage of " + STAGES);
    for (String s : stages) {
      v.check(STAGES.contains(s), path + ".stages", "unknown stage '" + s + "', expected one of " + STAGES);
    }
    v.positive(crossEncoderDepth, path + ".crossEncoderDepth");
    v.check(crossEncoderMaxLength >= 8 && crossEncoderMaxLength <= 8192, path + ".crossEncoderMaxLength",
        "must be in 8..8192 tokens, got " + crossEncoderMaxLength);
    v.positive(annRecallK, path + ".annRecallK");
    sweepNprobe.forEach(x -> v.positive(x, path + ".sweepNprobe"));
    sweepCandidates.forEach(x -> v.positive(x, path + ".sweepCandidates"));
    v.check(lossExamples >= 0, path + ".lossExamples", "must be >= 0, got " + lossExamples);
    gate.forEach((m, tol) -> v.check(tol != null && tol >= 0, path + ".gate." + m, "tolerance must be >= 0"));
    v.positive(permutations, path + ".permutations");
  }
}
