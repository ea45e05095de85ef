/**
 * Retrieval evaluation, Spark-free: readers and writers for queries (BEIR {@code queries.jsonl}, TREC topics),
 * relevance judgments (BEIR qrels TSV, TREC qrels), TREC run files; aggregation of chunk hits to documents;
 * trec_eval-exact metrics (Recall@k, P@k, MRR@k, nDCG@k, MAP, Success@k) and ANN recall@k; comparison of two
 * evaluations with paired significance tests and a regression gate; the report model.
 *
 * <p>Ranking order everywhere is trec_eval's: score descending, ties broken by document id in descending
 * lexicographic (byte) order, whatever the rank column says. A run written by {@link TrecRunFormat} therefore
 * evaluates to the same numbers here and in trec_eval / pytrec_eval.
 */
package io.quarry.core.eval;
