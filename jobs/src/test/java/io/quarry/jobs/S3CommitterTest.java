package io.quarry.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.core.config.ConfigLoader;
import io.quarry.core.config.QuarryConfig;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Writes to {@code s3a://} against S3Proxy (a real S3 API server on loopback): Spark SQL's Parquet writes go through
 * the S3A magic committer (spark-hadoop-cloud on the classpath), and config files on {@code s3a://} are read with the
 * {@code spark.hadoop.fs.s3a.*} settings.
 */
@SparkTest
class S3CommitterTest {
  static SparkSession spark;
  static S3Proxy proxy;
  static S3Client s3;
  static String endpoint;
  static final List<String> SET = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    spark = SparkTestSupport.localSpark("s3-committer-test", 2);
    BlobStoreContext bctx = ContextBuilder.newBuilder("transient").credentials("id", "cred")
        .build(BlobStoreContext.class);
    proxy = S3Proxy.builder().blobStore(bctx.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "quarry", "quarry-secret").build();
    proxy.start();
    for (int i = 0; i < 200 && !"STARTED".equals(proxy.getState()); i++) {
      Thread.sleep(25);
    }
    endpoint = "http://127.0.0.1:" + proxy.getPort();
    // S3Proxy implements neither flexible checksums nor aws-chunked uploads (the SDK's defaults since 2.30)
    s3 = S3Client.builder().region(Region.US_EAST_1).endpointOverride(URI.create(endpoint)).forcePathStyle(true)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("quarry", "quarry-secret")))
        .build();
    s3.createBucket(b -> b.bucket("lake"));
  }

  @AfterAll
  static void stop() throws Exception {
    s3.close();
    proxy.stop();
    SparkTestSupport.release(spark);
  }

  static Map<String, String> s3aSettings() {
    return Map.of("fs.s3a.endpoint", endpoint, "fs.s3a.path.style.access", "true", "fs.s3a.access.key", "quarry",
        "fs.s3a.secret.key", "quarry-secret", "fs.s3a.connection.ssl.enabled", "false", "fs.s3a.endpoint.region",
        "us-east-1", "fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "fs.s3a.change.detection.mode", "none", "fs.s3a.impl.disable.cache", "true",
        // one DeleteObject per key (the magic directory's cleanup): S3Proxy rejects the checksum header SDK >= 2.30
        // puts on bulk DeleteObjects, and S3A would leave __magic_job-* behind with only a warning
        "fs.s3a.multiobjectdelete.enable", "false");
  }

  @AfterEach
  void unset() {
    // the session may be shared with other test classes in this JVM: leave it as it was
    Configuration h = spark.sparkContext().hadoopConfiguration();
    s3aSettings().keySet().forEach(h::unset);
    SET.forEach(System::clearProperty);
    SET.clear();
  }

  @Test
  void parquetWritesToS3aCommitWithTheMagicCommitter() throws Exception {
    // spark-hadoop-cloud is on the classpath (the jobs jar shades it), so Spark 4.x's SparkContext switches Spark SQL
    // to its committer bridge and S3A to the magic committer (settings given explicitly would win)
    assertThat(spark.conf().get("spark.sql.sources.commitProtocolClass"))
        .isEqualTo("org.apache.spark.internal.io.cloud.PathOutputCommitProtocol");
    assertThat(spark.conf().get("spark.sql.parquet.output.committer.class"))
        .isEqualTo("org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter");
    Configuration h = spark.sparkContext().hadoopConfiguration();
    assertThat(h.get("fs.s3a.committer.name")).isEqualTo("magic");
    assertThat(h.get("mapreduce.outputcommitter.factory.scheme.s3a"))
        .isEqualTo("org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory");
    s3aSettings().forEach(h::set);
    spark.range(0, 1000).selectExpr("id", "cast(id * 7 as string) as s").repartition(3).write().mode("overwrite")
        .parquet("s3a://lake/quarry/chunks");

    // the S3A committers' _SUCCESS is a JSON manifest naming the committer and the files it committed (the classic
    // FileOutputCommitter writes an empty one)
    String success = s3.getObjectAsBytes(b -> b.bucket("lake").key("quarry/chunks/_SUCCESS")).asUtf8String();
    JsonNode j = new ObjectMapper().readTree(success);
    assertThat(j.path("name").asText()).isEqualTo("org.apache.hadoop.fs.s3a.commit.files.SuccessData/1");
    assertThat(j.path("committer").asText()).isEqualTo("magic");
    List<String> files = new ArrayList<>();
    j.path("filenames").forEach(f -> files.add(f.asText()));
    assertThat(files).hasSize(3).allMatch(f -> f.startsWith("/quarry/chunks/part-") && f.endsWith(".parquet"));
    // no magic scratch area is left: the objects are the committed files, _SUCCESS and S3A's directory marker
    List<String> keys = s3.listObjectsV2(b -> b.bucket("lake").prefix("quarry/")).contents().stream()
        .map(S3Object::key).filter(k -> !k.endsWith("/")).toList();
    List<String> expected = new ArrayList<>(files.stream().map(f -> f.substring(1)).toList());
    expected.add("quarry/chunks/_SUCCESS");
    assertThat(keys).noneMatch(k -> k.contains("__magic")).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(spark.read().parquet("s3a://lake/quarry/chunks").count()).isEqualTo(1000);
  }

  @Test
  void configFilesOnS3aAreReadWithTheSparkHadoopSettings() throws Exception {
    s3.putObject(b -> b.bucket("lake").key("conf/quarry.yaml"),
        RequestBody.fromString("quantizer:\n  spec: IVF16,PQ4x8\n"));
    // what spark-submit --conf spark.hadoop.fs.s3a.*=… gives the driver JVM: system properties; the session's own
    // Hadoop configuration does not have them (the settings are not in this test's session)
    assertThat(spark.sparkContext().hadoopConfiguration().get("fs.s3a.endpoint")).isNotEqualTo(endpoint);
    s3aSettings().forEach((k, v) -> {
      System.setProperty("spark.hadoop." + k, v);
      SET.add("spark.hadoop." + k);
    });
    String text = QuarryCli.readText("s3a://lake/conf/quarry.yaml");
    assertThat(text).contains("IVF16,PQ4x8");
    QuarryConfig c = ConfigLoader.load(List.of(new ConfigLoader.Source("s3a://lake/conf/quarry.yaml", text)),
        List.of());
    assertThat(c.quantizer().spec()).isEqualTo("IVF16,PQ4x8");
  }

  @Test
  void inputsOnS3aAreCheckedBeforeAnyWork() throws Exception {
    Path samples = Path.of("../data-samples/scifact").toAbsolutePath().normalize();
    s3.putObject(b -> b.bucket("lake").key("in/corpus/part-1.jsonl"), samples.resolve("corpus.jsonl"));
    s3.putObject(b -> b.bucket("lake").key("in/queries.jsonl"), samples.resolve("queries.jsonl"));
    s3.putObject(b -> b.bucket("lake").key("in/qrels.tsv"), samples.resolve("qrels/test.tsv"));
    s3aSettings().forEach((k, v) -> {
      System.setProperty("spark.hadoop." + k, v);
      SET.add("spark.hadoop." + k);
    });
    ConfigProblemsTest.Run ok = ConfigProblemsTest.run("validate-config", "--set", "input.corpus=s3a://lake/in/corpus",
        "--set", "evaluation.queries=s3a://lake/in/queries.jsonl", "--set", "evaluation.qrels=s3a://lake/in/qrels.tsv");
    assertThat(ok.rc()).as(ok.err()).isZero();
    ConfigProblemsTest.Run bad = ConfigProblemsTest.run("validate-config", "--set", "input.corpus=s3a://lake/in/none",
        "--set", "evaluation.queries=s3a://lake/in/corpus", "--set", "evaluation.qrels=s3a://lake/in/missing.tsv",
        "--set", "embedding.model=custom", "--set", "embedding.modelPath=s3a://lake/in");
    assertThat(bad.rc()).as(bad.err()).isEqualTo(QuarryCli.EXIT_USAGE);
    assertThat(bad.err()).contains("(4 problems)",
        "input.corpus: s3a://lake/in/none: file or directory not found",
        "evaluation.queries: s3a://lake/in/corpus: is a directory, expected a file",
        "evaluation.qrels: s3a://lake/in/missing.tsv: file not found",
        "embedding.modelPath: s3a://lake/in: no model.onnx, no tokenizer.json");
  }
}
