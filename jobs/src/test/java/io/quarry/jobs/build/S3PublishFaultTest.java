package io.quarry.jobs.build;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.segment.CorruptIndexFileException;
import io.quarry.core.segment.IndexManifest;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.SparkTest;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.domain.Blob;
import org.jclouds.blobstore.domain.MultipartPart;
import org.jclouds.blobstore.domain.MultipartUpload;
import org.jclouds.blobstore.options.CopyOptions;
import org.jclouds.blobstore.options.PutOptions;
import org.jclouds.blobstore.util.ForwardingBlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;

/**
 * A build publishing to {@code s3a://} that fails at every write it makes: S3Proxy (a real S3 API server on loopback)
 * over a blob store that, once armed at write {@code k}, answers every further write (PUT, multipart completion,
 * copy, DELETE) with a server error, as a store outage or a killed driver would leave it: the first {@code k} writes
 * landed, nothing after. For every {@code k} over the writes of a clean build (shard files in the order the tasks
 * write them, quantizer, manifest, CURRENT, summary) a reader then checks what is on S3: {@code CURRENT} names a
 * version that opens with every file's size and SHA-256 verified, and every version with a manifest (all a reader
 * may open) is complete; one without is refused. The same build is then re-run with the store healthy and must
 * publish a complete version.
 */
@SparkTest
class S3PublishFaultTest {
  private static final Logger LOG = LoggerFactory.getLogger(S3PublishFaultTest.class);
  @TempDir static Path tmp;
  static S3Proxy proxy;
  static FaultyStore store;
  static S3Client s3;
  static Map<String, String> s3a;

  /** Fails every write from the armed one on; records the keys of the writes that landed. */
  static final class FaultyStore extends ForwardingBlobStore {
    final List<String> landed = Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger writes = new AtomicInteger();
    volatile int failFrom = Integer.MAX_VALUE;
    volatile String firstFailed;

    FaultyStore(BlobStore delegate) {
      super(delegate);
    }

    /** Arms the fault: the write after {@code k} more landed writes, and every later one, fails. */
    void failAfter(int k) {
      writes.set(0);
      landed.clear();
      firstFailed = null;
      failFrom = k;
    }

    void heal() {
      failFrom = Integer.MAX_VALUE;
    }

    private void write(String op, String key) {
      int n = writes.getAndIncrement();
      if (n >= failFrom) {
        if (n == failFrom) {
          firstFailed = op + " " + key;
        }
        throw new IllegalStateException("injected fault: write " + n + " (" + op + " " + key + ")");
      }
      landed.add(op + " " + key);
    }

    @Override
    public String putBlob(String container, Blob blob) {
      write("PUT", blob.getMetadata().getName());
      return super.putBlob(container, blob);
    }

    @Override
    public String putBlob(String container, Blob blob, PutOptions options) {
      write("PUT", blob.getMetadata().getName());
      return super.putBlob(container, blob, options);
    }

    @Override
    public String copyBlob(String fromContainer, String fromName, String toContainer, String toName,
        CopyOptions options) {
      write("COPY", toName);
      return super.copyBlob(fromContainer, fromName, toContainer, toName, options);
    }

    @Override
    public String completeMultipartUpload(MultipartUpload mpu, List<MultipartPart> parts) {
      write("COMPLETE", mpu.blobName());
      return super.completeMultipartUpload(mpu, parts);
    }

    @Override
    public void removeBlob(String container, String name) {
      write("DELETE", name);
      super.removeBlob(container, name);
    }

    @Override
    public void removeBlobs(String container, Iterable<String> names) {
      write("DELETE", String.valueOf(names));
      super.removeBlobs(container, names);
    }
  }

  @BeforeAll
  static void start() throws Exception {
    BuildIndexJobTest.start();
    BlobStoreContext bctx = ContextBuilder.newBuilder("transient").credentials("id", "cred")
        .build(BlobStoreContext.class);
    store = new FaultyStore(bctx.getBlobStore());
    proxy = S3Proxy.builder().blobStore(store).endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "quarry", "quarry-secret").build();
    proxy.start();
    for (int i = 0; i < 200 && !"STARTED".equals(proxy.getState()); i++) {
      Thread.sleep(25);
    }
    String endpoint = "http://127.0.0.1:" + proxy.getPort();
    s3a = Map.ofEntries(Map.entry("fs.s3a.endpoint", endpoint), Map.entry("fs.s3a.path.style.access", "true"),
        Map.entry("fs.s3a.access.key", "quarry"), Map.entry("fs.s3a.secret.key", "quarry-secret"),
        Map.entry("fs.s3a.connection.ssl.enabled", "false"), Map.entry("fs.s3a.endpoint.region", "us-east-1"),
        Map.entry("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"),
        Map.entry("fs.s3a.change.detection.mode", "none"), Map.entry("fs.s3a.impl.disable.cache", "true"),
        Map.entry("fs.s3a.multiobjectdelete.enable", "false"),
        // a failed write fails fast instead of being retried for minutes (the outage does not end by itself)
        Map.entry("fs.s3a.retry.limit", "1"), Map.entry("fs.s3a.retry.interval", "10ms"),
        Map.entry("fs.s3a.attempts.maximum", "1"));
    Configuration hc = BuildIndexJobTest.spark.sparkContext().hadoopConfiguration();
    s3a.forEach(hc::set);
    s3 = S3Client.builder().region(Region.US_EAST_1).endpointOverride(URI.create(endpoint))
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .forcePathStyle(true).credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create("quarry", "quarry-secret"))).build();
    s3.createBucket(b -> b.bucket("lake"));
  }

  @AfterAll
  static void stop() throws Exception {
    Configuration hc = BuildIndexJobTest.spark.sparkContext().hadoopConfiguration();
    s3a.keySet().forEach(hc::unset);
    s3.close();
    proxy.stop();
    BuildIndexJobTest.stop();
  }

  /** A build of {@code version} (null: a reader's context). */
  static JobContext ctx(Path work, String version) {
    return version == null ? BuildIndexJobTest.ctx(work, "paths.index=s3a://lake/quarry/index")
        : BuildIndexJobTest.ctx(work, "segments.shards=3", "paths.index=s3a://lake/quarry/index",
            "segments.version=" + version);
  }

  @Test
  void aPublishFailingAtAnyWriteNeverExposesAPartialVersion() throws Exception {
    Path work = tmp.resolve("work");
    BuildIndexJobTest.writeInputs(work, false);
    // the writes of a clean build and publish, in the order they landed
    store.failAfter(Integer.MAX_VALUE);
    new BuildIndexJob().run(ctx(work, "v-clean"));
    List<String> clean = List.copyOf(store.landed);
    LOG.info("a clean build makes {} writes: {}", clean.size(), clean);
    assertThat(clean).anyMatch(w -> w.endsWith("/shard-00002/vectors.bin"))
        .anyMatch(w -> w.endsWith("v-clean/manifest.json")).anyMatch(w -> w.endsWith("index/CURRENT"));
    int manifestAt = indexOf(clean, "v-clean/manifest.json");
    int currentAt = indexOf(clean, "index/CURRENT");
    assertThat(manifestAt).isLessThan(currentAt);
    String published = current();
    assertThat(published).isEqualTo("v-clean");

    // the failure points: every write with -Dquarry.s3faults.all=true, else the first write, two among the shard
    // uploads (tasks write shards concurrently: shards 0 and 1 interleaved, then shard 2), the last shard file, and
    // the quantizer, manifest, CURRENT and summary writes
    int quantizerAt = indexOf(clean, "v-clean/quantizer.bin");
    int summaryAt = indexOf(clean, "v-clean/summary.json");
    TreeSet<Integer> points = new TreeSet<>(List.of(0, quantizerAt / 3, 2 * quantizerAt / 3, quantizerAt - 1,
        quantizerAt, manifestAt, currentAt, summaryAt));
    if (Boolean.getBoolean("quarry.s3faults.all")) {
      for (int k = 0; k < clean.size(); k++) {
        points.add(k);
      }
    }
    // the same build re-run with the store healthy, at a point among the shards and one between manifest and CURRENT
    java.util.Set<Integer> retried = java.util.Set.of(quantizerAt / 3, currentAt);
    int failedBuilds = 0;
    int partialVisible = 0;
    List<String> matrix = new ArrayList<>();
    for (int k : points) {
      String version = "v-fault-" + k;
      store.failAfter(k);
      Exception failure = null;
      try {
        new BuildIndexJob().run(ctx(work, version));
      } catch (Exception e) {
        failure = e;
      }
      store.heal();
      List<String> landed = List.copyOf(store.landed);
      String cur = current();
      // CURRENT moves only with the build's CURRENT write: before it, the previous version; at or after, this one
      boolean currentWritten = landed.stream().anyMatch(w -> w.endsWith("index/CURRENT"));
      assertThat(cur).as("k=%d", k).isEqualTo(currentWritten ? version : published);
      int bad = partialVersionsVisible();
      partialVisible += bad;
      failedBuilds += failure != null ? 1 : 0;
      matrix.add(String.format("k=%2d first failed write: %-50s build %s, CURRENT=%s, partial versions visible: %d",
          k, String.valueOf(store.firstFailed).replace("quarry/index/" + version, "<v>"),
          failure == null ? "ok" : "failed", cur, bad));
      assertThat(failure).as("k=%d: the build must fail when a write fails", k).isNotNull();
      published = cur;
      if (retried.contains(k)) {
        new BuildIndexJob().run(ctx(work, version));
        assertThat(current()).as("k=%d retry", k).isEqualTo(version);
        assertThat(partialVersionsVisible()).isZero();
        published = version;
      }
    }
    LOG.info("S3 publish fault matrix ({} of {} writes as failure points):\n{}", points.size(), clean.size(),
        String.join("\n", matrix));
    assertThat(failedBuilds).isEqualTo(points.size());
    assertThat(partialVisible).isZero();
  }

  private static int indexOf(List<String> writes, String suffix) {
    for (int i = 0; i < writes.size(); i++) {
      if (writes.get(i).endsWith(suffix)) {
        return i;
      }
    }
    return -1;
  }

  private static JobContext reader() {
    return ctx(tmp.resolve("work"), null);
  }

  private static String current() throws Exception {
    return PublishedIndex.current(reader());
  }

  /**
   * What a reader finds on S3: 1 if the version CURRENT names does not open with every file verified, plus 1 per
   * version with a manifest that does not (a version without a manifest must be refused as incomplete).
   */
  private static int partialVersionsVisible() throws Exception {
    JobContext r = reader();
    int bad = 0;
    try {
      PublishedIndex.validate(PublishedIndex.localCopy(r, null));
    } catch (Exception e) {
      LOG.error("CURRENT names a version that does not open", e);
      bad++;
    }
    TreeSet<String> versions = new TreeSet<>();
    for (CommonPrefix p : s3.listObjectsV2(b -> b.bucket("lake").prefix("quarry/index/").delimiter("/"))
        .commonPrefixes()) {
      versions.add(p.prefix().substring("quarry/index/".length(), p.prefix().length() - 1));
    }
    for (String v : versions) {
      boolean hasManifest = !s3.listObjectsV2(b -> b.bucket("lake").prefix("quarry/index/" + v + "/"
          + IndexManifest.FILE_NAME)).contents().isEmpty();
      try {
        PublishedIndex.validate(PublishedIndex.localCopy(r, v));
        if (!hasManifest) {
          bad++;
        }
      } catch (Exception e) { // without a manifest: CorruptIndexFileException "not a complete index version"
        if (hasManifest || !(e instanceof CorruptIndexFileException)) {
          LOG.error("version {} has a manifest but does not open", v, e);
          bad++;
        }
      }
    }
    return bad;
  }
}
