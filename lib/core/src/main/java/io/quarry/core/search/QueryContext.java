package io.quarry.core.search;

import io.quarry.core.quant.ivf.IvfPqSearcher;
import java.io.IOException;

/**
 * One query as it moves through the search stages: its text, its embedding (computed on first use, once) and its
 * prepared dense query (OPQ rotation + probed IVF lists, computed on first use, once, and shared by every shard).
 * Not thread-safe: one per request.
 */
public final class QueryContext {
  private final String text;
  private final HybridSearcher.QueryEncoder encoder;
  private float[] vector;
  private IvfPqSearcher.PreparedQuery prepared;
  private int preparedNprobe;

  /**
   * @param text the query text
   * @param encoder embeds the text with the index's model (null: dense stages fail)
   */
  public QueryContext(String text, HybridSearcher.QueryEncoder encoder) {
    this.text = text;
    this.encoder = encoder;
  }

  public String text() {
    return text;
  }

  /** The query embedding ({@code dim} floats). @throws IllegalArgumentException without an encoder */
  public float[] vector() throws IOException {
    if (vector == null) {
      if (encoder == null) {
        throw new IllegalArgumentException("no query encoder configured; use mode bm25");
      }
      vector = encoder.encode(text);
    }
    return vector;
  }

  /** The query prepared for the dense search at {@code nprobe} ({@link DenseSearcher#prepare}), once per nprobe. */
  public IvfPqSearcher.PreparedQuery prepared(DenseSearcher dense, int nprobe) throws IOException {
    if (prepared == null || preparedNprobe != nprobe) {
      prepared = dense.prepare(vector(), nprobe);
      preparedNprobe = nprobe;
    }
    return prepared;
  }
}
