package io.quarry.core.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Metrics of one run over a set of judged queries: the per-query values and their means.
 *
 * <p><b>Which queries count.</b> Quarry evaluates exactly the queries that have at least one line in the qrels.
 * A judged query whose ranking is missing or empty scores 0 on every metric and is counted in the mean (trec_eval
 * {@code -c}; without {@code -c} trec_eval would skip it, but Quarry's runs rank every query, so the two agree on
 * them). A judged query with no relevant document (every grade below 1) scores 0 and is counted, as trec_eval does.
 * Queries of the run that have no qrels line are skipped, as trec_eval does; {@link #unjudgedRunQueries()} counts
 * them.
 *
 * @param metrics the metrics, in report order
 * @param perQuery query id to values, aligned with {@code metrics}; judged queries in qrels order
 * @param means mean of each metric over {@code perQuery}, aligned with {@code metrics}
 * @param unjudgedRunQueries queries ranked by the run but absent from the qrels (not evaluated)
 * @param emptyRankings judged queries for which the run has no document
 */
public record Evaluation(
    List<Measure> metrics,
    Map<String, double[]> perQuery,
    double[] means,
    int unjudgedRunQueries,
    int emptyRankings) {

  /**
   * Evaluates {@code run} against {@code qrels}.
   *
   * @param run query id to ranking (any order within a query: it is re-sorted in trec_eval's order)
   * @throws IllegalArgumentException if {@code metrics} is empty or the qrels are empty
   */
  public static Evaluation of(Map<String, List<ScoredDoc>> run, Qrels qrels, List<Measure> metrics) {
    if (metrics.isEmpty()) {
      throw new IllegalArgumentException("no metric requested");
    }
    if (qrels.queryIds().isEmpty()) {
      throw new IllegalArgumentException("qrels " + qrels.source() + " hold no judged query");
    }
    Map<String, double[]> per = new LinkedHashMap<>();
    double[] sums = new double[metrics.size()];
    int empty = 0;
    for (String qid : qrels.queryIds()) {
      List<ScoredDoc> ranking = Rankings.sorted(run.getOrDefault(qid, List.of()));
      if (ranking.isEmpty()) {
        empty++;
      }
      Map<String, Integer> j = qrels.judgments(qid);
      double[] v = new double[metrics.size()];
      for (int m = 0; m < v.length; m++) {
        v[m] = Metrics.compute(metrics.get(m), ranking, j);
        sums[m] += v[m];
      }
      per.put(qid, v);
    }
    int unjudged = 0;
    for (String qid : run.keySet()) {
      if (qrels.judgments(qid).isEmpty()) {
        unjudged++;
      }
    }
    double[] means = new double[sums.length];
    for (int m = 0; m < sums.length; m++) {
      means[m] = sums[m] / per.size();
    }
    return new Evaluation(List.copyOf(metrics), Collections.unmodifiableMap(per), means, unjudged, empty);
  }

  /** Index of {@code metric} in {@link #metrics()}, or -1. */
  public int indexOf(String metric) {
    for (int i = 0; i < metrics.size(); i++) {
      if (metrics.get(i).name().equals(metric)) {
        return i;
      }
    }
    return -1;
  }

  /** Mean of the metric named {@code metric} (Quarry name, e.g. {@code nDCG@10}). */
  public double mean(String metric) {
    int i = indexOf(metric);
    if (i < 0) {
      throw new IllegalArgumentException("metric " + metric + " was not computed; have " + metrics);
    }
    return means[i];
  }

  /** Metric name to mean, report order. */
  public Map<String, Double> meansByName() {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < metrics.size(); i++) {
      m.put(metrics.get(i).name(), means[i]);
    }
    return m;
  }

  /** Query id to (metric name to value), for one metric list. */
  public Map<String, Map<String, Double>> perQueryByName() {
    Map<String, Map<String, Double>> out = new LinkedHashMap<>();
    perQuery.forEach((q, v) -> {
      Map<String, Double> m = new LinkedHashMap<>();
      for (int i = 0; i < metrics.size(); i++) {
        m.put(metrics.get(i).name(), v[i]);
      }
      out.put(q, m);
    });
    return out;
  }

  /** Number of evaluated (judged) queries. */
  public int queryCount() {
    return perQuery.size();
  }

  /** Parses a list of metric names. */
  public static List<Measure> parseMetrics(List<String> names) {
    List<Measure> out = new ArrayList<>();
    for (String n : names) {
      out.add(Measure.parse(n));
    }
    return out;
  }
}
