package io.quarry.jobs.build;

import io.quarry.core.quant.EmbeddingVector;
import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.format.QuantizerFormat;
import io.quarry.core.segment.ShardEntry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Row;

/**
 * The build's per-partition step: validates the joined chunk + embedding rows (a chunk without an embedding, an
 * embedding without a chunk, missing fields, wrong dimension, non-finite values are rejected with their reason) and
 * encodes the valid ones with the quantizer, in batches.
 */
final class PartitionEncoder {
  private PartitionEncoder() {}

  /** Rows encoded together by {@link #encode} ({@link QuantizerModel#encodeBatch}). */
  static final int ENCODE_BATCH = QuantizerModel.ENCODE_BLOCK;

  /** A valid row waiting for its batch to be encoded; {@code slot} is its place in the partition's output. */
  private record Pending(int slot, Row row, String chunkId, String docId, float[] x) {}

  /**
   * Validates and encodes one partition of joined rows. Valid rows are encoded in batches of {@link #ENCODE_BATCH}
   * ({@link QuantizerModel#encodeBatch}: blocked rotation, assignment and PQ, the same lists and codes as one vector
   * at a time); the output keeps the input order.
   */
  static Iterator<BuildIndexJob.Encoded> encode(Iterator<Row> rows, byte[] quantBytes, int dim) throws IOException {
    QuantizerModel model = QuantizerFormat.fromBytes(quantBytes, "quantizer.bin");
    List<BuildIndexJob.Encoded> out = new ArrayList<>();
    List<Pending> pending = new ArrayList<>(ENCODE_BATCH);
    while (rows.hasNext()) {
      Row r = rows.next();
      String chunkId = r.getAs("chunk_id");
      String eChunkId = r.getAs("e_chunk_id");
      String docId = r.getAs("doc_id");
      if (chunkId == null) {
        out.add(new BuildIndexJob.Encoded(null, eChunkId, r.getAs("e_doc_id"), "embedding_without_chunk", 0f));
        continue;
      }
      if (eChunkId == null) {
        out.add(new BuildIndexJob.Encoded(null, chunkId, docId, "chunk_without_embedding", 0f));
        continue;
      }
      String text = r.getAs("text");
      if (docId == null || text == null || r.isNullAt(r.fieldIndex("ordinal"))
          || r.isNullAt(r.fieldIndex("start_char")) || r.isNullAt(r.fieldIndex("end_char"))) {
        out.add(new BuildIndexJob.Encoded(null, chunkId, docId, "missing_field", 0f));
        continue;
      }
      EmbeddingVector v = EmbeddingVector.parse(r.isNullAt(r.fieldIndex("vector")) ? null
          : r.getList(r.fieldIndex("vector")), dim);
      if (!v.ok()) {
        out.add(new BuildIndexJob.Encoded(null, chunkId, docId, v.reason(), 0f));
        continue;
      }
      float[] x = v.vector();
      pending.add(new Pending(out.size(), r, chunkId, docId, x));
      out.add(null);
      if (pending.size() == ENCODE_BATCH) {
        flush(model, pending, out);
      }
    }
    flush(model, pending, out);
    return out.iterator();
  }

  private static void flush(QuantizerModel model, List<Pending> pending, List<BuildIndexJob.Encoded> out) {
    int n = pending.size();
    if (n == 0) {
      return;
    }
    int dim = model.dim();
    float[] xs = new float[n * dim];
    for (int i = 0; i < n; i++) {
      System.arraycopy(pending.get(i).x(), 0, xs, i * dim, dim);
    }
    QuantizerModel.EncodedBatch b = model.encodeBatch(xs, n,
        io.quarry.jobs.train.MllibBlasProducts.forCoarse(model.nlist()));
    for (int i = 0; i < n; i++) {
      Pending p = pending.get(i);
      Row r = p.row();
      String title = r.getAs("title");
      ShardEntry entry = new ShardEntry(p.chunkId(), p.docId(), ((Number) r.getAs("ordinal")).intValue(),
          ((Number) r.getAs("start_char")).intValue(), ((Number) r.getAs("end_char")).intValue(),
          title == null ? "" : title, r.getAs("text"), b.lists()[i], b.code(i), p.x());
      out.set(p.slot(), new BuildIndexJob.Encoded(entry, p.chunkId(), p.docId(), null, b.squaredErrors()[i]));
    }
    pending.clear();
  }
}
