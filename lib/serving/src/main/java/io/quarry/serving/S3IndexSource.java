package io.quarry.serving;

import io.quarry.core.segment.Checksums;
import io.quarry.core.segment.CorruptIndexFileException;
import io.quarry.core.segment.IndexManifest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * Index versions in an S3 bucket ({@code s3://bucket/prefix/CURRENT}, {@code .../<version>/...}), downloaded to a
 * local cache directory: the manifest first, then every file it lists, each checked against its size and SHA-256
 * while streaming, into {@code <cache>/<version>.partial-<nonce>/}, renamed to {@code <cache>/<version>/} when
 * complete. A cached complete version is reused (and re-verified by the loader). AWS SDK v2 with the JDK
 * URLConnection HTTP client; credentials from the default chain (environment, system properties, profile, IMDS).
 * Flexible checksums (the SDK's default since 2.30: {@code x-amz-checksum-mode} on GETs, CRC trailers on PUTs) only
 * when an operation requires them, as Hadoop's S3A does by default: S3-compatible servers (S3Proxy, older MinIO/Ceph)
 * reject them, and every downloaded file is checked against the manifest's SHA-256 anyway.
 *
 * <p>Faults: every request has a connect timeout and a read timeout of {@code timeoutMs} (a response, or the next
 * bytes of a body, that does not arrive within it fails the request), and the SDK's default retries (4 attempts
 * in all, with backoff, for 5xx, throttling and I/O errors before a response). A request that still fails, or a body stream
 * that breaks, throws {@link IndexSource.Unavailable}: the reload fails, the served version stays, and the next poll
 * tries again. A missing object or a checksum mismatch is a fault of the version (not retried).
 */
public final class S3IndexSource implements IndexSource {
  private final S3Client s3;
  private final String bucket;
  private final String prefix;
  private final Path cache;

  S3IndexSource(S3Client s3, String bucket, String prefix, Path cache) {
    this.s3 = s3;
    this.bucket = bucket;
    this.prefix = prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/";
    this.cache = cache;
  }

  /**
   * @param uri {@code s3://bucket/prefix} (or {@code s3a://})
   * @param endpoint endpoint override for S3-compatible servers (path-style access), or null for AWS
   * @param region the region
   * @param cache local cache directory (created)
   * @param timeoutMs connect and read timeout of every S3 request (milliseconds, ≥ 1)
   * @throws IllegalArgumentException if the URI has no bucket or the timeout is not positive
   * @throws IOException if the cache directory cannot be created
   */
  public static S3IndexSource create(String uri, String endpoint, String region, Path cache, long timeoutMs)
      throws IOException {
    return create(uri, endpoint, region, cache, timeoutMs, DefaultCredentialsProvider.create());
  }

  /** As {@link #create(String, String, String, Path, long)} with explicit credentials. */
  public static S3IndexSource create(String uri, String endpoint, String region, Path cache, long timeoutMs,
      AwsCredentialsProvider credentials) throws IOException {
    if (timeoutMs < 1) {
      throw new IllegalArgumentException("S3 timeout must be positive: " + timeoutMs + " ms");
    }
    Duration timeout = Duration.ofMillis(timeoutMs);
    URI u = URI.create(uri);
    if (u.getHost() == null || u.getHost().isEmpty()) {
      throw new IllegalArgumentException("S3 index location needs a bucket: " + uri);
    }
    String path = u.getPath() == null ? "" : u.getPath().replaceFirst("^/", "");
    var b = S3Client.builder().region(Region.of(region)).credentialsProvider(credentials)
        .httpClientBuilder(UrlConnectionHttpClient.builder().connectionTimeout(timeout).socketTimeout(timeout))
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    if (endpoint != null && !endpoint.isEmpty()) {
      b.endpointOverride(URI.create(endpoint)).forcePathStyle(true);
    }
    Files.createDirectories(cache);
    return new S3IndexSource(b.build(), u.getHost(), path, cache);
  }

  private byte[] get(String key) throws IOException {
    try {
      return s3.getObjectAsBytes(GetObjectRequest.builder().bucket(bucket).key(key).build()).asByteArray();
    } catch (NoSuchKeyException e) {
      throw new IOException("s3://" + bucket + "/" + key + ": not found");
    } catch (SdkException e) {
      throw new IndexSource.Unavailable("s3://" + bucket + "/" + key + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String currentVersion() throws IOException {
    String key = prefix + IndexManifest.CURRENT;
    return IndexSource.checkVersionId(new String(get(key), StandardCharsets.UTF_8), "s3://" + bucket + "/" + key);
  }

  @Override
  public Path fetch(String version) throws IOException {
    Path done = cache.resolve(version);
    if (Files.isRegularFile(done.resolve(IndexManifest.FILE_NAME))) {
      return done;
    }
    String base = prefix + version + "/";
    byte[] mbytes = get(base + IndexManifest.FILE_NAME);
    IndexManifest m = IndexManifest.parse(mbytes, "s3://" + bucket + "/" + base + IndexManifest.FILE_NAME);
    Path tmp = cache.resolve(version + ".partial-" + Long.toHexString(System.nanoTime()));
    Files.createDirectories(tmp);
    try {
      for (IndexManifest.FileEntry f : m.allFiles()) {
        Path dst = Checksums.resolveInside(tmp, f.path());
        Files.createDirectories(dst.getParent());
        download(base + f.path(), dst, f);
      }
      Files.write(tmp.resolve(IndexManifest.FILE_NAME), mbytes); // last, as on the server side
      Files.move(tmp, done, StandardCopyOption.ATOMIC_MOVE);
      return done;
    } catch (IOException | RuntimeException e) {
      deleteTree(tmp);
      throw e;
    }
  }

  private void download(String key, Path dst, IndexManifest.FileEntry f) throws IOException {
    MessageDigest md = Checksums.sha256();
    long n = 0;
    try (InputStream in = s3.getObject(GetObjectRequest.builder().bucket(bucket).key(key).build());
        var out = Files.newOutputStream(dst)) {
      byte[] buf = new byte[1 << 16];
      int r;
      while ((r = in.read(buf)) > 0) {
        md.update(buf, 0, r);
        out.write(buf, 0, r);
        n += r;
      }
    } catch (NoSuchKeyException e) {
      throw new CorruptIndexFileException("s3://" + bucket + "/" + key, "missing (listed in the manifest)");
    } catch (SdkException | IOException e) { // the request, the body stream (read timeout, reset) or the cache file
      throw new IndexSource.Unavailable("s3://" + bucket + "/" + key + ": " + e, e);
    }
    String sha = HexFormat.of().formatHex(md.digest());
    if (n != f.bytes() || !sha.equals(f.sha256())) {
      throw new CorruptIndexFileException("s3://" + bucket + "/" + key, n + " bytes sha256 " + sha + ", manifest says "
          + f.bytes() + " bytes sha256 " + f.sha256());
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }

  @Override
  public String redact(String message) {
    return ClientMessages.redact(message, cache);
  }

  @Override
  public String describe() {
    return "s3://" + bucket + "/" + prefix + " (cache " + cache + ")";
  }
}
