package io.quarry.jobs.embed;

import io.quarry.core.chunk.Chunk;
import io.quarry.core.config.EmbeddingConfig;
import io.quarry.core.platform.Platform;
import io.quarry.embed.Embedder;
import io.quarry.embed.RuntimePlatform;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;

/**
 * Executor side of embedding: chunk rows {@code (chunk_id, doc_id, title, text, reuse_key)} to embedding rows
 * {@code (chunk_id, doc_id, vector, reuse_key)} ({@code embedding.avsc}; the key is passed through). Rows are taken in groups of {@code groupSize}; the
 * {@link Embedder} sorts each group by token length and runs it in batches of {@code embedding.batchSize}, so a
 * batch holds texts of similar length and little padding. The model session is shared by all tasks of the
 * executor JVM ({@link Embedder#open}); a custom model is read from the executor's copy shipped once with
 * {@code SparkContext.addFile} ({@link ModelShipping}). Each task reports its executor's {@link Platform} (processor
 * instruction sets and ONNX Runtime version: what the int8 models' vectors depend on) to an accumulator.
 */
final class EmbedPartition implements FlatMapFunction<Iterator<Row>, Row> {
  private static final long serialVersionUID = 1L;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EmbedPartition.class);

  private final EmbeddingConfig cfg;
  private final boolean prependTitle;
  private final int groupSize;
  private final LongAccumulator chunks;
  private final LongAccumulator tokens;
  private final CollectionAccumulator<Platform> platforms;

  EmbedPartition(EmbeddingConfig cfg, boolean prependTitle, int groupSize, LongAccumulator chunks,
      LongAccumulator tokens, CollectionAccumulator<Platform> platforms) {
    this.cfg = cfg;
    this.prependTitle = prependTitle;
    this.groupSize = groupSize;
    this.chunks = chunks;
    this.tokens = tokens;
    this.platforms = platforms;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> it) {
    Embedder embedder = Embedder.open(ModelShipping.local(cfg));
    platforms.add(RuntimePlatform.current()); // the processor and runtime that compute this partition's vectors
    org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
    int partition = task == null ? -1 : task.partitionId();
    long t0 = System.nanoTime();
    return new Iterator<>() {
      private Iterator<Row> current = java.util.Collections.emptyIterator();
      private long done;
      private long doneTokens;

      @Override
      public boolean hasNext() {
        while (!current.hasNext() && it.hasNext()) {
          List<Row> in = new ArrayList<>(groupSize);
          while (in.size() < groupSize && it.hasNext()) {
            in.add(it.next());
          }
          List<String> texts = new ArrayList<>(in.size());
          for (Row r : in) {
            texts.add(Chunk.embeddingText(r.getString(2), r.getString(3), prependTitle));
          }
          int[] nTok = new int[texts.size()];
          // the chunk counter moves per ONNX Runtime batch: the driver's progress log sees it via heartbeats
          float[][] vecs = embedder.embedPassages(texts, nTok, chunks::add);
          List<Row> out = new ArrayList<>(in.size());
          long t = 0;
          for (int i = 0; i < vecs.length; i++) {
            out.add(RowFactory.create(in.get(i).getString(0), in.get(i).getString(1), vecs[i],
                in.get(i).getString(4)));
            t += nTok[i];
          }
          tokens.add(t);
          done += in.size();
          doneTokens += t;
          double secs = Math.max(1e-3, (System.nanoTime() - t0) / 1e9);
          LOG.info(String.format(java.util.Locale.ROOT,
              "embed partition %d: %,d chunks, %,d tokens, %.1f chunks/s, %.0f tokens/s", partition, done,
              doneTokens, done / secs, doneTokens / secs));
          current = out.iterator();
        }
        return current.hasNext();
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }
    };
  }
}
