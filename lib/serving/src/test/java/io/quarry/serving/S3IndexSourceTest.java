package io.quarry.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarry.core.search.HybridSearcher;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loads index versions from a real S3 API (S3Proxy on loopback): download, verify, serve, refuse corruption. */
class S3IndexSourceTest {
  @TempDir Path tmp;

  @Test
  void downloadsVerifiesAndServesFromS3() throws Exception {
    Path built = tmp.resolve("built");
    Path v1 = TestIndexes.write(built, "v1", 60, 2, "sq8");
    try (LoopbackS3 s3 = new LoopbackS3()) {
      s3.createBucket("idx");
      s3.upload("idx", "prod/index/v1/", v1);
      s3.put("idx", "prod/index/CURRENT", "v1\n".getBytes(StandardCharsets.UTF_8));
      Path cache = tmp.resolve("cache");
      S3IndexSource src = S3IndexSource.create("s3://idx/prod/index", s3.endpoint, "us-east-1", cache, 10_000,
          LoopbackS3.credentials());
      assertThat(src.currentVersion()).isEqualTo("v1");
      try (IndexHolder holder = new IndexHolder(src, new ModelEncoders(null, 1), null, true)) {
        assertThat(holder.refresh()).isTrue();
        assertThat(Files.readAllBytes(cache.resolve("v1/shard-00001/lists.ivf")))
            .isEqualTo(Files.readAllBytes(v1.resolve("shard-00001/lists.ivf")));
        TestIndexes.Doc d = TestIndexes.docs(60).get(3);
        LoadedIndex li = holder.acquire();
        try {
          HybridSearcher.Result r = li.searcher().search(HybridSearcher.Request.of(d.title(), 3));
          assertThat(r.hits().get(0).docId()).isEqualTo(d.id());
        } finally {
          li.release();
        }

        // v2 on S3 has a tampered object: the download fails naming it, v1 keeps serving and stays ready
        Path v2 = TestIndexes.write(built, "v2", 60, 2, "float32");
        s3.upload("idx", "prod/index/v2/", v2);
        byte[] table = Files.readAllBytes(v2.resolve("shard-00000/chunks.tbl"));
        table[table.length / 2] ^= 0x20;
        s3.put("idx", "prod/index/v2/shard-00000/chunks.tbl", table);
        s3.put("idx", "prod/index/CURRENT", "v2\n".getBytes(StandardCharsets.UTF_8));
        assertThat(holder.refresh()).isFalse();
        assertThat(holder.status().ready()).isTrue(); // still serving v1: stays in rotation
        assertThat(holder.status().version()).isEqualTo("v1");
        assertThat(holder.status().failedVersion()).isEqualTo("v2");
        assertThat(holder.status().lastReloadError()).contains("s3://idx/prod/index/v2/shard-00000/chunks.tbl");
        assertThat(Files.exists(cache.resolve("v2"))).isFalse();
      }
    }
  }
}
