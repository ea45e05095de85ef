package io.quarry.jobs.build;

import io.quarry.core.segment.Checksums;
import io.quarry.core.segment.DocumentDigests;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.ShardEntry;
import io.quarry.core.segment.ShardWriter;
import io.quarry.jobs.SerializableConf;
import io.quarry.lexical.Bm25ShardWriter;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileSystem;
import scala.Tuple2;

/**
 * Executor side of the build: writes one shard (all its entries arrive in one partition) into a local temporary
 * directory with the lib writers, then copies the files to {@code <versionDir>/shard-NNNNN/} on the Hadoop
 * filesystem. Idempotent, so a retried task overwrites its own files.
 */
final class ShardTask implements Serializable {
  /** Prefix of a task's local shard directory under {@code java.io.tmpdir}. */
  static final String SHARD_TMP_PREFIX = "quarry-shard-";

  private static final long serialVersionUID = 1L;

  /** What a shard task reports to the driver for the manifest. */
  record Result(int shard, long chunks, long docs, List<IndexManifest.FileEntry> files) implements Serializable {}

  private final String versionDir;
  private final SerializableConf conf;
  private final int nlist;
  private final int codeSize;
  private final int dim;
  private final String rescore;
  private final double k1;
  private final double b;
  /** Shard id of partition 0 (an incremental build's delta shards follow the base's shards). */
  private final int firstShard;

  ShardTask(String versionDir, SerializableConf conf, int nlist, int codeSize, int dim, String rescore, double k1,
      double b) {
    this(versionDir, conf, nlist, codeSize, dim, rescore, k1, b, 0);
  }

  ShardTask(String versionDir, SerializableConf conf, int nlist, int codeSize, int dim, String rescore, double k1,
      double b, int firstShard) {
    this.firstShard = firstShard;
    this.versionDir = versionDir;
    this.conf = conf;
    this.nlist = nlist;
    this.codeSize = codeSize;
    this.dim = dim;
    this.rescore = rescore;
    this.k1 = k1;
    this.b = b;
  }

  Iterator<Result> run(int partition, Iterator<Tuple2<Integer, ShardEntry>> it) throws IOException {
    int shard = firstShard + partition;
    List<ShardEntry> entries = new ArrayList<>();
    while (it.hasNext()) {
      Tuple2<Integer, ShardEntry> t = it.next();
      if (t._1() != partition) {
        throw new IllegalStateException("entry for partition " + t._1() + " in partition " + partition);
      }
      entries.add(t._2());
    }
    entries.sort(Comparator.comparing(ShardEntry::chunkId));
    for (int i = 1; i < entries.size(); i++) {
      if (entries.get(i).chunkId().equals(entries.get(i - 1).chunkId())) {
        throw new IllegalArgumentException("duplicate chunk_id '" + entries.get(i).chunkId() + "' in shard " + shard);
      }
    }
    // the local shard directories of a killed executor's tasks on this host go first (io.quarry.jobs.StaleTemp)
    io.quarry.jobs.StaleTemp.cleanLocal(Path.of(System.getProperty("java.io.tmpdir")), SHARD_TMP_PREFIX,
        System.currentTimeMillis(), "build");
    Path tmp = Files.createTempDirectory(SHARD_TMP_PREFIX + io.quarry.jobs.StaleTemp.suffix() + "-");
    try {
      String name = IndexManifest.shardDir(shard);
      Path dir = tmp.resolve(name);
      ShardWriter.Stats stats = ShardWriter.writeDense(dir, shard, nlist, codeSize, dim, rescore, entries);
      Bm25ShardWriter.write(dir, entries, k1, b);
      DocumentDigests.write(dir, entries);
      List<IndexManifest.FileEntry> files = Checksums.list(tmp, dir);
      org.apache.hadoop.fs.Path dst = new org.apache.hadoop.fs.Path(versionDir);
      FileSystem fs = dst.getFileSystem(conf.get());
      for (IndexManifest.FileEntry f : files) {
        // a plain streamed write (not copyFromLocalFile, whose S3A transfer-manager upload some S3-compatible
        // servers reject); overwrite makes a retried task idempotent
        try (var out = fs.create(new org.apache.hadoop.fs.Path(dst, f.path()), true)) {
          Files.copy(tmp.resolve(f.path()), out);
        }
      }
      return List.of(new Result(shard, stats.chunks(), stats.docs(), files)).iterator();
    } finally {
      deleteRecursively(tmp);
    }
  }

  static void deleteRecursively(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }
}
