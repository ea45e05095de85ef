package io.quarry.core.search.fusion;

import java.util.List;

/**
 * A fusion method with its parameters: one fused score per item from the scores of any number of signals (BM25 and
 * one or more dense signals). One class per method (a record of its parameters), each with its {@link FusionMethod}
 * descriptor — name, parsing, tuning grid, documentation — registered in {@link FusionMethods}. Normalizations are
 * separate ({@link Normalization}). Anserini's and ranx's fusion libraries are the model: a method is one small
 * function over runs.
 *
 * <p>Implementations are immutable values (equal parameters: equal fusions) and deterministic: signals are combined in
 * list order, so results are reproducible bit for bit.
 */
public interface Fusion {
  /** The method's descriptor (its name is the head of {@link #text()}). */
  FusionMethod method();

  /**
   * The fused score of every item.
   *
   * @param signals one or more signals over the same items, in a fixed order
   * @return one score per item, higher is better
   */
  double[] fuse(List<Signal> signals);

  /** The canonical text form, e.g. {@code wrrf:k=60,alpha=0.7}, which the method's parser reads back to an equal fusion. */
  String text();

  /**
   * The tuning family: the points of one curve (e.g. {@code convex:zscore} for every α); the text form without the
   * {@link #axis()} parameter.
   */
  String family();

  /** This point's position on its family's curve, {@code name=value} (e.g. {@code alpha=0.70}, {@code k=60}). */
  String axis();
}
