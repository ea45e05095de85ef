package io.quarry.jobs.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.config.EmbeddingConfig;
import io.quarry.embed.Embedder;
import io.quarry.embed.ModelFiles;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.SparkTest;
import io.quarry.jobs.SparkTestSupport;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.embed.EmbedJob;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Chunk and embed reading from {@code s3a://} (hadoop-aws against S3Proxy, a real S3 API server, on loopback): a
 * gzip-compressed corpus read straight from S3, and a custom model directory on S3 shipped to the executors with
 * {@code addFile}.
 */
@SparkTest
class S3IngestTest {
  static SparkSession spark;
  static S3Proxy proxy;
  static String endpoint;

  @TempDir Path tmp;

  @BeforeAll
  static void start() throws Exception {
    BlobStoreContext bctx = ContextBuilder.newBuilder("transient").credentials("id", "cred")
        .build(BlobStoreContext.class);
    proxy = S3Proxy.builder().blobStore(bctx.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "quarry", "quarry-secret").build();
    proxy.start();
    for (int i = 0; i < 200 && !"STARTED".equals(proxy.getState()); i++) {
      Thread.sleep(25);
    }
    endpoint = "http://127.0.0.1:" + proxy.getPort();
    // S3A settings as spark.hadoop.* properties, as on a cluster: they reach every Hadoop configuration Spark makes,
    // including the executors' (where SparkContext.addFile fetches the shipped model), not only the driver's. They
    // are static settings: this class has a SparkContext of its own, not the shared one.
    SparkTestSupport.stopShared();
    SparkSession.Builder b = SparkSession.builder().master("local[2]").appName("s3-ingest-test")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2");
    Map.of("fs.s3a.endpoint", endpoint, "fs.s3a.path.style.access", "true",
        "fs.s3a.access.key", "quarry", "fs.s3a.secret.key", "quarry-secret", "fs.s3a.connection.ssl.enabled", "false",
        "fs.s3a.endpoint.region", "us-east-1", "fs.s3a.aws.credentials.provider",
        "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider", "fs.s3a.change.detection.mode", "none",
        // no FileSystem cache: another test class in this JVM may have cached an s3a:// filesystem for a server it
        // has since stopped
        "fs.s3a.impl.disable.cache", "true",
        // one DeleteObject per key: S3Proxy rejects the checksum header SDK >= 2.30 puts on bulk DeleteObjects
        "fs.s3a.multiobjectdelete.enable", "false")
        .forEach((k, v) -> b.config("spark.hadoop." + k, v));
    spark = b.getOrCreate();
  }

  @AfterAll
  static void stop() throws Exception {
    spark.stop();
    proxy.stop();
    Embedder.closeAll();
  }

  static JobContext ctx(Path work, String... overrides) {
    return SparkTestSupport.context(spark, work, overrides);
  }

  @Test
  void chunksACompressedCorpusAndEmbedsWithACustomModelFromS3() throws Exception {
    ModelFiles model = ModelFiles.load(new EmbeddingConfig("bge-small-en-v1.5-q", "", 1, 512, 1));
    // S3Proxy implements neither flexible checksums nor aws-chunked uploads (the SDK's defaults since 2.30)
    try (S3Client s3 = S3Client.builder().region(Region.US_EAST_1).endpointOverride(URI.create(endpoint))
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .forcePathStyle(true).credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create("quarry", "quarry-secret"))).build()) {
      s3.createBucket(b -> b.bucket("lake"));
      s3.putObject(b -> b.bucket("lake").key("corpus/part-1.jsonl.gz"), RequestBody.fromBytes(
          Files.readAllBytes(ChunkJobTest.SAMPLES.resolve("bad-inputs/corpus.jsonl.gz"))));
      s3.putObject(b -> b.bucket("lake").key("models/my-model/model.onnx"), RequestBody.fromBytes(model.onnx()));
      s3.putObject(b -> b.bucket("lake").key("models/my-model/tokenizer.json"),
          RequestBody.fromBytes(model.tokenizerJson()));
      s3.putObject(b -> b.bucket("lake").key("models/my-model/quarry-model.json"),
          RequestBody.fromString("{\"pooling\": \"cls\"}"));
    }
    JobContext c = ctx(tmp.resolve("w"), "input.corpus=s3a://lake/corpus", "input.maxDocChars=2000",
        "embedding.model=custom", "embedding.modelPath=s3a://lake/models/my-model");
    JobSummary chunk = new ChunkJob().run(c);
    assertThat(chunk.get("documents")).isEqualTo(3L);
    assertThat(chunk.get("quarantined")).isEqualTo(7L);
    String src = spark.read().parquet(c.config().paths().quarantineDir() + "/chunk")
        .filter("reason = 'malformed_json'").first().getAs("source");
    assertThat(src).isEqualTo("s3a://lake/corpus/part-1.jsonl.gz:2");

    JobSummary emb = new EmbedJob().run(c);
    assertThat(emb.get("model")).isEqualTo("custom:my-model");
    assertThat(emb.get("sha256")).isEqualTo(model.sha256());
    assertThat(emb.get("chunks")).isEqualTo(3L);
  }
}
