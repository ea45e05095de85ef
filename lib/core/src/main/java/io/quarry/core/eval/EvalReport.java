package io.quarry.core.eval;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.quarry.core.platform.Platform;
import io.quarry.core.search.Stages;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The content of {@code metrics.json}: what was evaluated (dataset with checksums, index version, model, config
 * hash), each stage's mean metrics and per-query values, sweeps, and loss attribution. Written by the evaluate job,
 * read back by {@code quarry compare} as a baseline. Apart from the {@code latency*} fields, the same inputs, config
 * and seed give byte-identical JSON.
 *
 * @param schemaVersion {@value #SCHEMA_VERSION}
 * @param runId evaluation run id
 * @param configHash SHA-256 of the resolved config
 * @param modelId embedding model id
 * @param indexVersion evaluated index version ({@code null} when no index was used)
 * @param indexSpec quantizer spec in FAISS notation, e.g. {@code IVF64,PQ48x8}
 * @param dataset the labeled queries
 * @param parameters search parameters (k, nprobe, candidates, rrfK, ...)
 * @param stages one entry per evaluated stage, in pipeline order
 * @param finalStage the stage whose run is {@code run.trec} and whose metrics the gate checks by default
 * @param sweeps parameter sweeps (may be empty)
 * @param loss loss attribution of the final stage ({@code null} if not computed)
 * @param notes human-readable remarks (skipped stages and why)
 * @param passagePlatforms processor kinds and ONNX Runtime version that embedded the chunks (from the index
 *     manifest or the embeddings' {@code _model.json}); null when unknown (older files; optional when reading)
 * @param queryPlatform processor kind and ONNX Runtime version that embedded the queries (the evaluating driver);
 *     null in older files
 * @param gain the final stage against the best single-signal stage, with paired significance tests (null when the
 *     final stage is a single signal)
 * @param tuning the hybrid operating point the index version was tuned to, with its curve (null if untuned)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EvalReport(
    int schemaVersion,
    String runId,
    String configHash,
    String modelId,
    String indexVersion,
    String indexSpec,
    Dataset dataset,
    Map<String, Object> parameters,
    List<StageResult> stages,
    String finalStage,
    List<SweepPoint> sweeps,
    LossAttribution.Summary loss,
    List<String> notes,
    List<Platform> passagePlatforms,
    Platform queryPlatform,
    FinalGain gain,
    Tuning tuning) {

  /** A report without platform, gain and tuning sections. */
  public EvalReport(int schemaVersion, String runId, String configHash, String modelId, String indexVersion,
      String indexSpec, Dataset dataset, Map<String, Object> parameters, List<StageResult> stages, String finalStage,
      List<SweepPoint> sweeps, LossAttribution.Summary loss, List<String> notes) {
    this(schemaVersion, runId, configHash, modelId, indexVersion, indexSpec, dataset, parameters, stages, finalStage,
        sweeps, loss, notes, null, null, null, null);
  }

  /** A report without gain and tuning sections. */
  public EvalReport(int schemaVersion, String runId, String configHash, String modelId, String indexVersion,
      String indexSpec, Dataset dataset, Map<String, Object> parameters, List<StageResult> stages, String finalStage,
      List<SweepPoint> sweeps, LossAttribution.Summary loss, List<String> notes, List<Platform> passagePlatforms,
      Platform queryPlatform) {
    this(schemaVersion, runId, configHash, modelId, indexVersion, indexSpec, dataset, parameters, stages, finalStage,
        sweeps, loss, notes, passagePlatforms, queryPlatform, null, null);
  }

  /**
   * The final stage's gain over the best single-signal stage ({@code bm25}, {@code exact}, {@code rescore}) on
   * {@code metric}, per query paired.
   *
   * @param finalStage the final stage
   * @param baseline the best single-signal stage on {@code metric}
   * @param metric e.g. {@code nDCG@10}
   * @param finalValue mean of the final stage
   * @param baselineValue mean of the baseline
   * @param delta {@code finalValue − baselineValue}
   * @param pRandomization two-sided p of the paired randomization test ({@code permutations} sign flips)
   * @param pTTest two-sided p of the paired t-test
   * @param improved / worse queries where the final stage is better / worse
   */
  public record FinalGain(String finalStage, String baseline, String metric, double finalValue, double baselineValue,
      double delta, double pRandomization, double pTTest, int improved, int worse) {}

  /**
   * The tuning the evaluated version carries ({@code quarry tune}, on training qrels).
   *
   * @param tunedOn training qrels and query count
   * @param objective the metric maximized
   * @param chosen the chosen fusion, nprobe and depth
   * @param value the objective at the chosen point on the training queries
   * @param curve objective over α (or RRF k) at the chosen strategy, normalization, nprobe and depth
   * @param flatRange the α (or k) span within 0.005 of the curve's best
   * @param singleStages the objective of BM25 and exact dense alone on the same training candidates
   */
  public record Tuning(String tunedOn, String objective, String chosen, double value, Map<String, Double> curve,
      String flatRange, Map<String, Double> singleStages) {}

  public static final int SCHEMA_VERSION = 1;

  /** This report with the platforms that embedded its chunks and queries. */
  public EvalReport withPlatforms(List<Platform> passages, Platform queries) {
    return new EvalReport(schemaVersion, runId, configHash, modelId, indexVersion, indexSpec, dataset, parameters,
        stages, finalStage, sweeps, loss, notes, passages, queries, gain, tuning);
  }

  /** This report with the final stage's gain and the version's tuning. */
  public EvalReport withGainAndTuning(FinalGain g, Tuning t) {
    return new EvalReport(schemaVersion, runId, configHash, modelId, indexVersion, indexSpec, dataset, parameters,
        stages, finalStage, sweeps, loss, notes, passagePlatforms, queryPlatform, g, t);
  }

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /**
   * The labeled queries.
   *
   * @param format beir or trec
   * @param queries queries file
   * @param queriesSha256 SHA-256 of its bytes
   * @param qrels qrels file
   * @param qrelsSha256 SHA-256 of its bytes
   * @param queryCount queries evaluated (judged queries)
   * @param judgments (query, document) judgments over them
   */
  public record Dataset(String format, String queries, String queriesSha256, String qrels, String qrelsSha256,
      int queryCount, int judgments) {}

  /**
   * One stage's evaluation.
   *
   * @param name stage name ({@link Stages}: {@code bm25}, {@code exact}, {@code ivfpq}, {@code rescore},
   *     {@code hybrid}, {@code cross-encoder}; {@code dense-exact}, {@code dense-ivfpq} in older files, mapped on read)
   * @param description what the stage does, with its parameters
   * @param runFile TREC run file, relative to the evaluation directory
   * @param queries judged queries evaluated
   * @param emptyRankings judged queries for which the stage returned nothing
   * @param metrics metric name to mean
   * @param annRecall ANN recall@k against exact search (dense IVF-PQ only), else null
   * @param latencyMsP50 median per-query latency of the stage, ms (null if not measured)
   * @param latencyMsP95 95th percentile per-query latency, ms
   * @param perQuery query id to (metric name to value)
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record StageResult(String name, String description, String runFile, int queries, int emptyRankings,
      Map<String, Double> metrics, Double annRecall, Double latencyMsP50, Double latencyMsP95,
      Map<String, Map<String, Double>> perQuery) {}

  /**
   * One point of a sweep.
   *
   * @param stage swept stage
   * @param parameter swept parameter ({@code nprobe}, {@code candidates}, {@code rrfK})
   * @param value its value
   * @param metrics metric name to mean
   * @param annRecall ANN recall@k (dense stage) or null
   * @param latencyMsP50 median per-query latency, ms
   * @param bytesPerVector index bytes per vector of the swept stage (codes + ids)
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record SweepPoint(String stage, String parameter, int value, Map<String, Double> metrics, Double annRecall,
      Double latencyMsP50, Double bytesPerVector) {}

  /** The stage named {@code name}, or null. */
  public StageResult stage(String name) {
    for (StageResult s : stages) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    return null;
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Parses {@code metrics.json}.
   *
   * @throws EvalInputException naming {@code source} if the JSON is malformed or of another schema version
   */
  public static EvalReport fromJson(String source, String json) {
    EvalReport r;
    try {
      r = JSON.readValue(json, EvalReport.class);
    } catch (IOException e) {
      throw new EvalInputException(source, 0, "not a Quarry metrics.json: " + e.getMessage(), e);
    }
    if (r.schemaVersion() != SCHEMA_VERSION) {
      throw new EvalInputException(source, 0, "schemaVersion " + r.schemaVersion() + " not supported (expected "
          + SCHEMA_VERSION + ")");
    }
    if (r.stages() == null || r.stages().isEmpty()) {
      throw new EvalInputException(source, 0, "no stages");
    }
    return r.withCurrentStageNames();
  }

  /**
   * This report with the stage names of earlier versions ({@code dense-exact}, {@code dense-ivfpq}:
   * {@link Stages#DEPRECATED}) replaced by the current ones, so that an old {@code metrics.json} compares with a new
   * one stage by stage. Run file paths are kept: they name files on disk.
   */
  public EvalReport withCurrentStageNames() {
    List<StageResult> st = stages.stream().map(s -> new StageResult(Stages.canonical(s.name()), s.description(),
        s.runFile(), s.queries(), s.emptyRankings(), s.metrics(), s.annRecall(), s.latencyMsP50(), s.latencyMsP95(),
        s.perQuery())).toList();
    List<SweepPoint> sw = sweeps == null ? null : sweeps.stream().map(p -> new SweepPoint(Stages.canonical(
        p.stage()), p.parameter(), p.value(), p.metrics(), p.annRecall(), p.latencyMsP50(), p.bytesPerVector()))
        .toList();
    FinalGain g = gain == null ? null : new FinalGain(Stages.canonical(gain.finalStage()),
        Stages.canonical(gain.baseline()), gain.metric(), gain.finalValue(), gain.baselineValue(), gain.delta(),
        gain.pRandomization(), gain.pTTest(), gain.improved(), gain.worse());
    return new EvalReport(schemaVersion, runId, configHash, modelId, indexVersion, indexSpec, dataset, parameters, st,
        Stages.canonical(finalStage), sw, loss, notes, passagePlatforms, queryPlatform, g, tuning);
  }
}
