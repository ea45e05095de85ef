package io.quarry.jobs.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarry.core.search.HybridSearcher;
import io.quarry.core.segment.IndexVersion;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.SparkTest;
import io.quarry.lexical.Bm25Index;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The build stage publishing to {@code s3a://} (hadoop-aws with the trimmed AWS SDK v2 modules) against S3Proxy, a
 * real S3 API server, on loopback: shards, manifest and CURRENT land on S3, the version reads back through a local
 * copy, and a failed build leaves the published CURRENT alone.
 */
@SparkTest
class S3PublishTest {
  @org.junit.jupiter.api.io.TempDir Path tmp;

  @org.junit.jupiter.api.BeforeAll
  static void start() {
    BuildIndexJobTest.start();
  }

  @org.junit.jupiter.api.AfterAll
  static void stop() {
    BuildIndexJobTest.stop();
  }

  static org.apache.spark.sql.SparkSession spark() {
    return BuildIndexJobTest.spark;
  }

  @Test
  void buildsAndPublishesToS3a() throws Exception {
    BlobStoreContext bctx = ContextBuilder.newBuilder("transient").credentials("id", "cred")
        .build(BlobStoreContext.class);
    S3Proxy proxy = S3Proxy.builder().blobStore(bctx.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "quarry", "quarry-secret").build();
    proxy.start();
    for (int i = 0; i < 200 && !"STARTED".equals(proxy.getState()); i++) {
      Thread.sleep(25);
    }
    String endpoint = "http://127.0.0.1:" + proxy.getPort();
    Configuration hc = spark().sparkContext().hadoopConfiguration();
    Map<String, String> s3a = Map.of("fs.s3a.endpoint", endpoint, "fs.s3a.path.style.access", "true",
        "fs.s3a.access.key", "quarry", "fs.s3a.secret.key", "quarry-secret", "fs.s3a.connection.ssl.enabled", "false",
        "fs.s3a.endpoint.region", "us-east-1", "fs.s3a.aws.credentials.provider",
        "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider", "fs.s3a.change.detection.mode", "none",
        // no FileSystem cache: another test class in this JVM may have cached an s3a:// filesystem for a server it
        // has since stopped
        "fs.s3a.impl.disable.cache", "true",
        // one DeleteObject per key: S3Proxy rejects the checksum header SDK >= 2.30 puts on bulk DeleteObjects
        "fs.s3a.multiobjectdelete.enable", "false");
    s3a.forEach(hc::set);
    // S3Proxy implements neither flexible checksums nor aws-chunked uploads (the SDK's defaults since 2.30)
    try (S3Client s3 = S3Client.builder().region(Region.US_EAST_1).endpointOverride(URI.create(endpoint))
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .forcePathStyle(true).credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create("quarry", "quarry-secret"))).build()) {
      s3.createBucket(b -> b.bucket("lake"));
      Path work = tmp.resolve("s3work");
      Map<String, float[]> vectors = BuildIndexJobTest.writeInputs(work, false);
      JobContext ctx = BuildIndexJobTest.ctx(work, "segments.shards=2", "paths.index=s3a://lake/quarry/index");
      JobSummary s = new BuildIndexJob().run(ctx);
      String version = (String) s.get("version");
      assertThat(s.get("versionDir")).isEqualTo("s3a://lake/quarry/index/" + version);

      // on S3: CURRENT, the manifest, the shard files
      String current = s3.getObjectAsBytes(b -> b.bucket("lake").key("quarry/index/CURRENT")).asUtf8String();
      assertThat(current).isEqualTo(version + "\n");
      assertThat(s3.listObjectsV2(b -> b.bucket("lake").prefix("quarry/index/" + version + "/")).contents())
          .extracting(o -> o.key().substring(("quarry/index/" + version + "/").length()))
          .contains("manifest.json", "quantizer.bin", "shard-00000/lists.ivf", "shard-00001/chunks.tbl",
              "shard-00001/vectors.bin");

      // read back through the readers' path: local copy, verify, search
      Path local = PublishedIndex.localCopy(ctx, null);
      assertThat(local.toString()).doesNotStartWith("s3a:");
      IndexVersion v = IndexVersion.open(local, true);
      try (Bm25Index bm25 = Bm25Index.open(local, v.manifest())) {
        HybridSearcher hs = new HybridSearcher(v, vectors::get, bm25, null);
        assertThat(hs.search(new HybridSearcher.Request("d12#1", io.quarry.core.search.SearchOptions.builder().k(3)
            .mode(io.quarry.core.search.SearchOptions.Mode.RESCORE).nprobe(4).depth(50).rescoreDepth(50).build()))
            .hits().get(0).chunkId()).isEqualTo("d12#1");
      }

      // a build that fails (model.json disagrees with the quantizer) leaves the published version alone
      Files.writeString(work.resolve("embeddings/_model.json"), "{\"modelId\":\"m\",\"sha256\":\"x\",\"dim\":3}",
          StandardCharsets.UTF_8);
      assertThatThrownBy(() -> new BuildIndexJob().run(ctx)).hasMessageContaining("model dim 3");
      assertThat(s3.getObjectAsBytes(b -> b.bucket("lake").key("quarry/index/CURRENT")).asUtf8String())
          .isEqualTo(version + "\n");
    } finally {
      s3a.keySet().forEach(hc::unset);
      proxy.stop();
    }
  }
}
