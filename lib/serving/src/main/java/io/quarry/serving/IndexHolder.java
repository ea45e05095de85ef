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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the index version being served and reloads it when {@code CURRENT} changes.
 *
 * <p>Semantics (what load balancers and probes see, docs/operations.md): the server is <em>ready</em> as long as a
 * valid version serves. A version that fails to load (missing, incomplete, corrupt, wrong embedding model) never
 * replaces the one being served, and does not make the server unready: the previous version keeps answering, and the
 * failure is reported by {@link #status()} ({@code /health} detail), one ERROR log line per failed version, and the
 * reload metrics ({@link #reloadFailures()}, {@link #lastSuccessfulReloadMillis()}). A version that failed is not
 * retried until {@code CURRENT} names another one (then, it may name it again). A reload that failed because the
 * source could not be reached ({@link IndexSource.Unavailable}: S3 errors or timeouts) says nothing about the
 * version: it is tried again at every poll, and {@link #sourceAvailable()} is false until one succeeds.
 */
public final class IndexHolder implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(IndexHolder.class);

  /** Builds the query encoder for a version; throws if the server cannot embed with the version's model. */
  @FunctionalInterface
  public interface EncoderFactory {
    HybridSearcher.QueryEncoder forManifest(IndexManifest manifest) throws IOException;

    /**
     * Query encoders of the version's extra dense fields by field name (issue 26), each checked against its field's
     * model; a field without one is not searched. Default: none.
     */
    default java.util.Map<String, HybridSearcher.QueryEncoder> forDenseFields(IndexManifest manifest)
        throws IOException {
      return java.util.Map.of();
    }
  }

  /**
   * What the server reports about its index. Messages are safe to show to clients: local filesystem paths are
   * reduced to paths relative to the index root ({@link IndexSource#redact}).
   *
   * @param ready a valid version is loaded and serves
   * @param version the version being served, or null
   * @param reason why not ready (null when ready)
   * @param lastReloadError the error of the last reload attempt when it failed and {@code CURRENT} still names the
   *     failed version (or cannot be read); null once the served version is {@code CURRENT}'s again
   * @param failedVersion the version of {@code lastReloadError}, or null (e.g. {@code CURRENT} unreadable)
   * @param reloadFailures failed reload attempts since start
   * @param sourceAvailable false while the last reload failed because the index source could not be reached
   */
  public record Status(boolean ready, String version, String reason, String lastReloadError, String failedVersion,
      long reloadFailures, boolean sourceAvailable) {
    /** Ready, serving {@code version}, no reload failure pending. */
    public static Status serving(String version, long reloadFailures) {
      return new Status(true, version, null, null, null, reloadFailures, true);
    }
  }

  private final IndexSource source;
  private final EncoderFactory encoders;
  private final HybridSearcher.Reranker reranker;
  private final boolean verify;
  private final AtomicReference<LoadedIndex> current = new AtomicReference<>();
  private final AtomicLong reloadFailures = new AtomicLong();
  private volatile String lastError = "no index version loaded yet";
  private volatile String lastFailedVersion;
  private volatile boolean failing;
  private volatile boolean sourceUnavailable;
  private volatile long lastSuccessMillis;
  private volatile long loadedAtMillis;
  private ScheduledExecutorService poller;

  /**
   * @param source where versions come from
   * @param encoders query encoders per version
   * @param reranker optional cross-encoder, or null
   * @param verify verify every file's size and SHA-256 against the manifest and every segment file's CRC32 before a
   *     version is served (reads every byte once); the format checks and the IVF id checks run either way
   */
  public IndexHolder(IndexSource source, EncoderFactory encoders, HybridSearcher.Reranker reranker, boolean verify) {
    this.source = source;
    this.encoders = encoders;
    this.reranker = reranker;
    this.verify = verify;
  }

  /**
   * Checks {@code CURRENT} and loads it if it names a version other than the one served. Never throws: failures
   * are logged, counted and reported by {@link #status()}.
   *
   * @return true if a new version was loaded
   */
  public synchronized boolean refresh() {
    String v;
    try {
      v = source.currentVersion();
    } catch (IOException | RuntimeException e) {
      fail(null, "cannot read CURRENT: " + e.getMessage(), e);
      return false;
    }
    LoadedIndex cur = current.get();
    if (cur != null && cur.version().manifest().version().equals(v)) {
      inSync();
      return false;
    }
    if (v.equals(lastFailedVersion) && !sourceUnavailable) {
      return false; // already reported and counted; wait for CURRENT to change
    }
    try {
      LoadedIndex next = load(v);
      LoadedIndex old = current.getAndSet(next);
      loadedAtMillis = System.currentTimeMillis();
      inSync();
      LOG.info("serving index version {} from {}", v, source.describe());
      if (old != null) {
        old.release();
      }
      return true;
    } catch (IOException | RuntimeException e) {
      fail(v, "index version " + v + " not loaded: " + e.getMessage(), e);
      return false;
    }
  }

  private void inSync() {
    lastError = null;
    lastFailedVersion = null;
    failing = false;
    sourceUnavailable = false;
    lastSuccessMillis = System.currentTimeMillis();
  }

  private void fail(String version, String message, Exception e) {
    reloadFailures.incrementAndGet();
    String shown = source.redact(message);
    boolean repeated = shown.equals(lastError);
    lastError = shown;
    lastFailedVersion = version;
    failing = true;
    sourceUnavailable = e instanceof IndexSource.Unavailable;
    LoadedIndex cur = current.get();
    String tail = cur != null ? " (still serving " + cur.version().manifest().version() + ")" : " (nothing to serve)";
    if (!repeated) { // a CURRENT that stays unreadable is counted on every poll but logged once
      LOG.error("{}{}", message, tail);
    }
    if (e instanceof RuntimeException) {
      LOG.debug("reload failure", e);
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
    java.util.Map<String, HybridSearcher.QueryEncoder> fieldEnc = encoders.forDenseFields(version.manifest());
    return new LoadedIndex(version, bm25, new HybridSearcher(version, enc, bm25, reranker, fieldEnc));
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

  /** Readiness and the last reload failure, if one is pending. */
  public Status status() {
    LoadedIndex li = current.get();
    String err = lastError;
    boolean pending = failing;
    String version = li == null ? null : li.version().manifest().version();
    return new Status(li != null, version, li == null ? (err == null ? "no index version loaded yet" : err) : null,
        pending ? err : null, pending ? lastFailedVersion : null, reloadFailures.get(), !sourceUnavailable);
  }

  /** False while the last reload failed because the index source could not be reached (retried every poll). */
  public boolean sourceAvailable() {
    return !sourceUnavailable;
  }

  /**
   * Failed reload attempts since start (a failed version counts once; an unreadable CURRENT or an unreachable source
   * on every poll).
   */
  public long reloadFailures() {
    return reloadFailures.get();
  }

  /**
   * Wall-clock time (epoch milliseconds) of the last successful reload check: {@code CURRENT} was read and the
   * version it names is the one served (just loaded, or already serving); 0 if there never was one.
   */
  public long lastSuccessfulReloadMillis() {
    return lastSuccessMillis;
  }

  /** Wall-clock time (epoch milliseconds) the served version was loaded; 0 if none. */
  public long loadedAtMillis() {
    return current.get() == null ? 0 : loadedAtMillis;
  }

  /** True while the last reload attempt failed and {@code CURRENT} still names a version that is not served. */
  public boolean reloadFailing() {
    return failing;
  }

  /** The source's location, as shown in logs (not to clients). */
  public String describeSource() {
    return source.describe();
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
