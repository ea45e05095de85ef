package io.quarry.jobs.eval;

import io.quarry.core.search.HybridSearcher;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import io.quarry.embed.Embedder;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.build.PublishedIndex;
import io.quarry.lexical.Bm25Index;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The index version a labeled-query job (evaluate, tune) searches — {@code segments.version}, else the published one
 * ({@code CURRENT}) — opened as the serving jar opens it (a local copy when the index is remote), with its BM25 part.
 * Closing it closes the BM25 readers.
 */
final class EvaluatedIndex implements Closeable {
  private final Path local;
  private final IndexVersion version;
  private final Bm25Index bm25;
  /** Query encoders of the version's extra dense fields (issue 26), each checked against its field's model. */
  private final io.quarry.embed.FieldEncoders fields;

  private EvaluatedIndex(Path local, IndexVersion version, Bm25Index bm25, io.quarry.embed.FieldEncoders fields) {
    this.local = local;
    this.version = version;
    this.bm25 = bm25;
    this.fields = fields;
  }

  /**
   * Opens the version and checks it was built with the embedder's model ({@link IndexManifest.Model#mismatch}: the
   * check serving makes too).
   *
   * @throws IllegalStateException on a model mismatch
   * @throws IOException if the version is missing, incomplete or unreadable
   */
  static EvaluatedIndex open(JobContext ctx, Embedder embedder) throws IOException {
    String wanted = ctx.config().segments().version();
    Path local = PublishedIndex.localCopy(ctx, wanted == null || wanted.isBlank() ? null : wanted);
    IndexVersion version = IndexVersion.open(local, false);
    String why = version.manifest().model().mismatch(version.manifest().version(),
        new IndexManifest.Model(embedder.modelId(), embedder.modelSha256(), embedder.dim()));
    if (why != null) {
      throw new IllegalStateException(why + " (embedding.model must be the index's model)");
    }
    io.quarry.embed.FieldEncoders fields;
    try {
      fields = io.quarry.embed.FieldEncoders.open(version.manifest(), ctx.config().embedding().maxSeqLength(),
          ctx.config().embedding().intraOpThreads(), true);
    } catch (IOException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
    Bm25Index bm25 = version.manifest().bm25() == null ? null : Bm25Index.open(local, version.manifest());
    return new EvaluatedIndex(local, version, bm25, fields);
  }

  IndexVersion version() {
    return version;
  }

  /** The BM25 part, or null if the version has none. */
  Bm25Index bm25() {
    return bm25;
  }

  /**
   * The version's searcher; queries embedded beforehand ({@code byText}: query text → vector) are not embedded again.
   *
   * @param reranker cross-encoder, or null
   */
  HybridSearcher searcher(Map<String, float[]> byText, Embedder embedder, HybridSearcher.Reranker reranker) {
    HybridSearcher.QueryEncoder enc = q -> {
      float[] v = byText.get(q);
      return v != null ? v : embedder.embedQueries(List.of(q))[0];
    };
    return new HybridSearcher(version, enc, bm25, reranker, fields.encoders());
  }

  @Override
  public void close() throws IOException {
    if (bm25 != null) {
      bm25.close();
    }
  }
}
