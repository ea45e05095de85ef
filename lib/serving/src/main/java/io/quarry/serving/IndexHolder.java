package io.quarry.serving;

import io.quarry.core.search.HybridSearcher;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import io.quarry.lexical.Bm25Index;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the index version being served and reloads it when {@code CURRENT} changes. A version that fails to load
 * (missing, incomplete, corrupt, wrong embedding model) never replaces the one being served: the previous version
 * keeps answering and {@link #status()} reports not-ready with the reason until a good version is published.
 */
public final class IndexHolder implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(IndexHolder.class);

  /** Builds the query encoder for a version; throws if the server cannot embed with the version's model. */
  @FunctionalInterface
  public interface EncoderFactory {
    HybridSearcher.QueryEncoder forManifest(IndexManifest manifest) throws IOException;
  }

  /**
   * Readiness.
   *
   * @param ready a version is loaded and the last reload attempt succeeded
   * @param version the version being served, or null
   * @param reason why not ready (null when ready)
   */
  public record Status(boolean ready, String version, String reason) {}

  private final IndexSource source;
  private final EncoderFactory encoders;
  private final HybridSearcher.Reranker reranker;
  private final boolean verify;
  private final AtomicReference<LoadedIndex> current = new AtomicReference<>();
  private volatile String lastError = "no index version loaded yet";
  private volatile String lastFailedVersion;
  private ScheduledExecutorService poller;

  /**
   * @param verify verify every file's SHA-256 and CRC32 when loading a version
   */
  public IndexHolder(IndexSource source, EncoderFactory encoders, HybridSearcher.Reranker reranker, boolean verify) {
    this.source = source;
    this.encoders = encoders;
    this.reranker = reranker;
    this.verify = verify;
  }

  /**
   * Checks {@code CURRENT} and loads it if it names a version other than the one served. Never throws: failures
   * are logged and reported by {@link #status()}.
   *
   * @return true if a new version was loaded
   */
  public synchronized boolean refresh() {
    String v;
    try {
      v = source.currentVersion();
    } catch (IOException | RuntimeException e) {
      lastError = e.getMessage();
      return false;
    }
    LoadedIndex cur = current.get();
    if (cur != null && cur.version().manifest().version().equals(v)) {
      lastError = null;
      return false;
    }
    if (v.equals(lastFailedVersion)) {
      return false; // already reported; wait for CURRENT to change
    }
    try {
      LoadedIndex next = load(v);
      LoadedIndex old = current.getAndSet(next);
      lastError = null;
      lastFailedVersion = null;
      LOG.info("serving index version {} from {}", v, source.describe());
      if (old != null) {
        old.release();
      }
      return true;
    } catch (IOException | RuntimeException e) {
      lastFailedVersion = v;
      lastError = "index version " + v + " not loaded: " + e.getMessage();
      LOG.error(lastError + (current.get() != null ? " (still serving " + current.get().version().manifest().version()
          + ")" : ""));
      return false;
    }
  }

  private LoadedIndex load(String v) throws IOException {
    Path dir = source.fetch(v);
    IndexVersion version = IndexVersion.open(dir, verify);
    if (!version.manifest().version().equals(v)) {
      throw new IOException(dir + "/manifest.json: version '" + version.manifest().version() + "' but CURRENT says '"
          + v + "'");
    }
    HybridSearcher.QueryEncoder enc = encoders.forManifest(version.manifest());
    Bm25Index bm25 = version.manifest().bm25() == null ? null : Bm25Index.open(dir, version.manifest());
    return new LoadedIndex(version, bm25, new HybridSearcher(version, enc, bm25, reranker));
  }

  /** Polls {@code CURRENT} every {@code periodMs} milliseconds on a daemon thread. */
  public synchronized void startPolling(long periodMs) {
    if (poller != null) {
      return;
    }
    poller = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "quarry-index-reload");
      t.setDaemon(true);
      return t;
    });
    poller.scheduleWithFixedDelay(this::refresh, periodMs, periodMs, TimeUnit.MILLISECONDS);
  }

  /**
   * The version to serve a request with, acquired; the caller must {@link LoadedIndex#release()} it.
   *
   * @return null if no version is loaded
   */
  public LoadedIndex acquire() {
    while (true) {
      LoadedIndex li = current.get();
      if (li == null) {
        return null;
      }
      if (li.acquire()) {
        return li;
      }
      // retired between get() and acquire(): the new one is already in place
    }
  }

  public Status status() {
    LoadedIndex li = current.get();
    String err = lastError;
    return new Status(li != null && err == null, li == null ? null : li.version().manifest().version(), err);
  }

  @Override
  public synchronized void close() {
    if (poller != null) {
      poller.shutdownNow();
    }
    LoadedIndex li = current.getAndSet(null);
    if (li != null) {
      li.release();
    }
  }
}
