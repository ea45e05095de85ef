package io.quarry.jobs.chunk;

import io.quarry.core.chunk.Chunk;
import io.quarry.core.chunk.Chunker;
import io.quarry.core.config.ChunkingConfig;
import io.quarry.core.config.EmbeddingConfig;
import io.quarry.embed.HfTokenizer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;

/**
 * Executor side of chunking: rows {@code (doc_id, title, text, doc_key)} to chunk rows in the order of
 * {@code chunk.avsc} ({@code chunk_id, doc_id, ordinal, title, text, start_char, end_char, n_tokens, doc_key}). The
 * tokenizer is the embedding model's, loaded once per executor JVM.
 */
final class ChunkPartition implements FlatMapFunction<Iterator<Row>, Row> {
  private static final long serialVersionUID = 1L;

  private final ChunkingConfig chunking;
  private final EmbeddingConfig embedding;
  private final LongAccumulator docs;
  private final LongAccumulator chunks;

  ChunkPartition(ChunkingConfig chunking, EmbeddingConfig embedding, LongAccumulator docs, LongAccumulator chunks) {
    this.chunking = chunking;
    this.embedding = embedding;
    this.docs = docs;
    this.chunks = chunks;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> it) {
    Chunker chunker = Chunker.create(chunking,
        HfTokenizer.forModel(io.quarry.jobs.embed.ModelShipping.local(embedding)));
    return new Iterator<>() {
      private Iterator<Row> current = java.util.Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        while (!current.hasNext() && it.hasNext()) {
          Row d = it.next();
          String docKey = d.getString(3);
          List<Row> rows = new ArrayList<>();
          for (Chunk c : chunker.chunk(d.getString(0), d.getString(1), d.getString(2))) {
            rows.add(RowFactory.create(c.chunkId(), c.docId(), c.ordinal(), c.title(), c.text(), c.startChar(),
                c.endChar(), c.nTokens(), docKey));
          }
          docs.add(1);
          chunks.add(rows.size());
          current = rows.iterator();
        }
        return current.hasNext();
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        return current.next();
      }
    };
  }
}
