package io.quarry.serving;

import io.quarry.core.search.HybridSearcher;
import io.quarry.core.segment.IndexVersion;
import io.quarry.lexical.Bm25Index;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One opened index version (dense part, BM25 part, the hybrid searcher) with a reference count: requests
 * {@link #acquire()} it and {@link #release()} it when done; a retired version (after a reload) is closed only when
 * its last in-flight request releases it, so a reload never fails a request that is running.
 */
public final class LoadedIndex {
  private static final Logger LOG = LoggerFactory.getLogger(LoadedIndex.class);

  private final IndexVersion version;
  private final Bm25Index bm25;
  private final HybridSearcher searcher;
  private final AtomicInteger refs = new AtomicInteger(1); // the holder's reference

  LoadedIndex(IndexVersion version, Bm25Index bm25, HybridSearcher searcher) {
    this.version = version;
    this.bm25 = bm25;
    this.searcher = searcher;
  }

  public IndexVersion version() {
    return version;
  }

  public HybridSearcher searcher() {
    return searcher;
  }

  /** Takes a reference; false if the index is already closed (the caller retries with the new current index). */
  boolean acquire() {
    while (true) {
      int r = refs.get();
      if (r <= 0) {
        return false;
      }
      if (refs.compareAndSet(r, r + 1)) {
        return true;
      }
    }
  }

  /** Drops a reference; the last one closes the BM25 readers. */
  void release() {
    if (refs.decrementAndGet() == 0) {
      try {
        if (bm25 != null) {
          bm25.close();
        }
        LOG.info("closed index version {}", version.manifest().version());
      } catch (IOException e) {
        LOG.warn("closing index version {}: {}", version.manifest().version(), e.toString());
      }
    }
  }
}
