package io.quarry.serving;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/** S3Proxy (a real S3 API server, in-memory blob store) on 127.0.0.1, started and stopped by a test. */
final class LoopbackS3 implements AutoCloseable {
  static final String ACCESS = "quarry-test";
  static final String SECRET = "quarry-test-secret";

  final S3Proxy proxy;
  final S3Client client;
  final String endpoint;

  LoopbackS3() throws Exception {
    this(AuthenticationType.AWS_V2_OR_V4);
  }

  /**
   * @param auth {@code NONE} lets requests reach it through a forwarding proxy (which changes the signed Host
   *     header); clients still sign
   */
  LoopbackS3(AuthenticationType auth) throws Exception {
    Properties p = new Properties();
    BlobStoreContext ctx = ContextBuilder.newBuilder("transient").credentials("id", "cred").overrides(p)
        .build(BlobStoreContext.class);
    proxy = S3Proxy.builder().blobStore(ctx.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(auth, ACCESS, SECRET).build();
    proxy.start();
    for (int i = 0; i < 200 && !"STARTED".equals(proxy.getState()); i++) {
      Thread.sleep(25);
    }
    endpoint = "http://127.0.0.1:" + proxy.getPort();
    client = S3Client.builder().region(Region.US_EAST_1).endpointOverride(URI.create(endpoint)).forcePathStyle(true)
        .credentialsProvider(credentials()).httpClientBuilder(UrlConnectionHttpClient.builder())
        // S3Proxy implements neither flexible checksums nor aws-chunked uploads (the SDK's defaults since 2.30)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED).build();
  }

  static StaticCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS, SECRET));
  }

  void createBucket(String bucket) {
    client.createBucket(b -> b.bucket(bucket));
  }

  void put(String bucket, String key, byte[] bytes) {
    client.putObject(PutObjectRequest.builder().bucket(bucket).key(key).build(), RequestBody.fromBytes(bytes));
  }

  /** Uploads every file under {@code dir} to {@code prefix + relative path}. */
  void upload(String bucket, String prefix, Path dir) throws Exception {
    try (var s = Files.walk(dir)) {
      for (Path f : s.filter(Files::isRegularFile).toList()) {
        put(bucket, prefix + dir.relativize(f).toString().replace('\\', '/'), Files.readAllBytes(f));
      }
    }
  }

  @Override
  public void close() throws Exception {
    client.close();
    proxy.stop();
  }
}
