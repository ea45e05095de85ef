package io.quarry.core.quant.train;

import io.quarry.core.quant.DistanceMetric;
import io.quarry.core.quant.IndexSpec;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.TrainingInfo;
import io.quarry.core.quant.component.CoarseQuantizer;
import io.quarry.core.quant.component.ProductQuantizer;
import io.quarry.core.quant.component.VectorTransform;
import java.util.TreeMap;

/**
 * The order in which a {@link QuantizerModel} is trained, in one place for both trainers: the in-memory {@link
 * QuantizerTrainer} ({@code V} = row-major {@code float[]} rows) and the Spark trainer in {@code io.quarry.jobs.train}
 * ({@code V} = a keyed RDD). Each implements the steps on its own data; {@link #train} runs them in this order:
 *
 * <ol>
 *   <li>{@link Step#SAMPLE}: at most {@code maxPointsPerCentroid × max(nlist, ksub)} vectors ({@link
 *       QuantizerTrainer#sampleCap}, {@link QuantizerTrainer#checkSampleSize}).
 *   <li>{@link Step#OPQ} (only with {@code OPQ<M>}): the rotation ({@link PqTraining#opq}), then the sample rotated.
 *   <li>{@link Step#IVF} (only with IVF): the coarse centroids by k-means on the rotated sample.
 *   <li>{@link Step#LISTS}: the rotated sample assigned to the lists; metric {@code ivf.mse} (and, on Spark, empty
 *       lists re-seeded by FAISS's split).
 *   <li>{@link Step#PQ} (not for {@code Flat}): the residual PQ ({@link PqTraining#lloyd} on Spark, per-sub-space
 *       k-means in memory); metrics {@code pq.splits}, {@code pq.mse.heldout}.
 *   <li>{@link Step#STATS}: the model assembled ({@link TrainingInfo} with the metrics) and {@code pq.mse} measured by
 *       encoding the PQ training vectors with it.
 * </ol>
 *
 * <p>An implementation is a one-shot object: a step may keep what a later step needs (the residuals, the sample's
 * size) in fields.
 *
 * @param <V> a set of training vectors
 */
public abstract class TrainingSteps<V> {
  /** The steps, in the order {@link #train} runs them. */
  public enum Step { SAMPLE, OPQ, IVF, LISTS, PQ, STATS }

  protected final IndexSpec spec;
  protected final DistanceMetric metric;
  protected final QuantizerTrainer.Params params;
  protected final int d;
  /** Training metrics by name, put by the steps; they go into the model's {@link TrainingInfo}. */
  protected final TreeMap<String, Double> metrics = new TreeMap<>();

  protected TrainingSteps(IndexSpec spec, DistanceMetric metric, QuantizerTrainer.Params params, int d) {
    this.spec = spec;
    this.metric = metric;
    this.params = params;
    this.d = d;
  }

  /** Step 1: the training sample. */
  protected abstract V sample();

  /** Step 2 (only with OPQ): the rotation trained on {@code sample}. */
  protected abstract VectorTransform opq(V sample);

  /** Step 2, after {@link #opq}: {@code sample} rotated by {@code rotation}. */
  protected abstract V rotate(V sample, VectorTransform rotation);

  /** Step 3 (only with IVF): {@code nlist × d} coarse centroids trained on the rotated sample {@code xt}. */
  protected abstract float[] ivf(V xt);

  /** Step 4: assigns {@code xt} to the lists of {@code coarse}, puts {@code ivf.mse}; returns the final quantizer. */
  protected abstract CoarseQuantizer lists(V xt, CoarseQuantizer coarse);

  /** Step 5 (not for {@code Flat}): the PQ trained on the residuals of {@code xt} under {@code coarse}. */
  protected abstract ProductQuantizer pq(V xt, CoarseQuantizer coarse);

  /** Step 6: the {@code pq.mse} of {@code model} over the PQ training vectors. */
  protected abstract double pqMse(QuantizerModel model);

  /** Vectors in the sample (step 1), recorded in the model's {@link TrainingInfo}. */
  protected abstract long sampleSize();

  /** The {@link TrainingInfo#sparkVersion} recorded in the model ({@code none} in memory). */
  protected abstract String sparkVersion();

  /** Called after each step (timing, logging); does nothing by default. */
  protected void done(Step step) {}

  /** Runs the steps in order and returns the model. */
  public final QuantizerModel train() {
    V sample = sample();
    done(Step.SAMPLE);
    VectorTransform transform = VectorTransform.identity(d);
    V xt = sample;
    if (spec.hasOpq()) {
      transform = opq(sample);
      xt = rotate(sample, transform);
    }
    done(Step.OPQ);
    CoarseQuantizer coarse = CoarseQuantizer.single(d);
    if (spec.hasIvf()) {
      coarse = CoarseQuantizer.ivf(ivf(xt), spec.effectiveNlist(), d);
    }
    done(Step.IVF);
    coarse = lists(xt, coarse);
    done(Step.LISTS);
    ProductQuantizer pq = spec.isFlat() ? null : pq(xt, coarse);
    done(Step.PQ);
    QuantizerModel model = new QuantizerModel(spec, metric, transform, coarse, pq, new TrainingInfo(sampleSize(),
        params.seed(), sparkVersion(), TrainingInfo.currentQuarryVersion(), metrics, params.maxPointsPerCentroid()));
    model = model.withInfo(model.info().withMetric("pq.mse", pqMse(model)));
    done(Step.STATS);
    return model;
  }
}
