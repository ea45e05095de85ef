package io.quarry.jobs.build;

import io.quarry.core.segment.CorruptIndexFileException;
import io.quarry.core.segment.IndexManifest;
import io.quarry.core.segment.IndexVersion;
import io.quarry.jobs.JobContext;
import io.quarry.lexical.Bm25Index;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * Index versions on a Hadoop filesystem as the jobs see them: the {@code CURRENT} pointer, local copies for the
 * Spark-free readers, and validation before publishing.
 *
 * <p>Layout under {@code paths.index}: {@code <version>/manifest.json}, {@code <version>/quantizer.bin},
 * {@code <version>/shard-NNNNN/...}, and {@code CURRENT} holding the published version id and a newline. A version
 * without {@code manifest.json} is incomplete and never read. On a local filesystem {@code CURRENT} is replaced
 * with an atomic rename; on object stores (s3a) by a single PUT, which S3 makes visible atomically.
 */
public final class PublishedIndex {
  private PublishedIndex() {}

  /**
   * The published version id from {@code <index>/CURRENT}.
   *
   * @throws IOException if {@code CURRENT} is missing ("no published index version") or empty
   */
  public static String current(JobContext ctx) throws IOException {
    String p = child(ctx.config().paths().indexDir(), IndexManifest.CURRENT);
    if (!ctx.exists(p)) {
      throw new IOException(p + ": no published index version (run the build stage first)");
    }
    String v = ctx.readString(p).trim();
    if (v.isEmpty() || !v.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new CorruptIndexFileException(p, "does not hold a version id: '" + v + "'");
    }
    return v;
  }

  /** {@code parent/name} without a doubled slash. */
  public static String child(String parent, String name) {
    return parent.endsWith("/") ? parent + name : parent + "/" + name;
  }

  /**
   * A local directory holding {@code version}: the directory itself when the index is on the local filesystem,
   * otherwise a fresh copy under {@code java.io.tmpdir/quarry-index/<version>} (the files' checksums are verified
   * when the caller opens it with {@link IndexVersion#open}).
   *
   * @param version a version id, or null for the one {@code CURRENT} names
   * @throws IOException if the version has no manifest (incomplete or missing) or the copy fails
   */
  public static Path localCopy(JobContext ctx, String version) throws IOException {
    String v = version == null ? current(ctx) : version;
    String dir = child(ctx.config().paths().indexDir(), v);
    org.apache.hadoop.fs.Path hp = new org.apache.hadoop.fs.Path(dir);
    FileSystem fs = ctx.fs(dir);
    if (!fs.exists(new org.apache.hadoop.fs.Path(hp, IndexManifest.FILE_NAME))) {
      throw new CorruptIndexFileException(dir, "no " + IndexManifest.FILE_NAME + ": not a complete index version");
    }
    if (fs instanceof LocalFileSystem lfs) {
      return lfs.pathToFile(hp).toPath();
    }
    if (fs instanceof RawLocalFileSystem rfs) {
      return rfs.pathToFile(hp).toPath();
    }
    Path local = Path.of(System.getProperty("java.io.tmpdir"), "quarry-index", v);
    ShardTask.deleteRecursively(local);
    Files.createDirectories(local.getParent());
    fs.copyToLocalFile(false, hp, new org.apache.hadoop.fs.Path(local.toUri()), true);
    return local;
  }

  /**
   * Opens a local version the way readers will (manifest, every file's size and SHA-256, segment CRC32s, the BM25
   * indexes) and closes it again.
   *
   * @throws CorruptIndexFileException naming the first bad file
   */
  public static IndexManifest validate(Path localVersionDir) throws IOException {
    IndexVersion v = IndexVersion.open(localVersionDir, true);
    if (v.manifest().bm25() != null) {
      try (Bm25Index bm25 = Bm25Index.open(localVersionDir, v.manifest())) {
        bm25.search("validation", 1);
      }
    }
    return v.manifest();
  }

  /**
   * Replaces {@code manifest.json} of {@code version} (e.g. with the search defaults {@code quarry tune} chose):
   * atomic rename on a local filesystem, one overwriting PUT on object stores. Only the manifest's {@code search}
   * field may differ: the version's files and their checksums must stay as they are.
   *
   * @throws IllegalArgumentException if anything but {@code search} differs from the stored manifest
   */
  public static void rewriteManifest(JobContext ctx, IndexManifest updated) throws IOException {
    String p = child(child(ctx.config().paths().indexDir(), updated.version()), IndexManifest.FILE_NAME);
    IndexManifest stored = IndexManifest.parse(ctx.readString(p), p);
    if (!stored.withSearch(null).equals(updated.withSearch(null))) {
      throw new IllegalArgumentException(p + ": only the search defaults of a built version may change");
    }
    writeAtomically(ctx, p, updated.toJson());
  }

  /** Points {@code <index>/CURRENT} at {@code version} (atomic replace). */
  public static void publish(JobContext ctx, String version) throws IOException {
    String p = child(ctx.config().paths().indexDir(), IndexManifest.CURRENT);
    writeAtomically(ctx, p, (version + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /** Writes a small file: temp file + atomic rename locally, one overwriting PUT elsewhere. */
  private static void writeAtomically(JobContext ctx, String p, byte[] bytes) throws IOException {
    FileSystem fs = ctx.fs(p);
    org.apache.hadoop.fs.Path hp = new org.apache.hadoop.fs.Path(p);
    Path local = fs instanceof LocalFileSystem lfs ? lfs.pathToFile(hp).toPath()
        : fs instanceof RawLocalFileSystem rfs ? rfs.pathToFile(hp).toPath() : null;
    if (local != null) {
      if (fs instanceof LocalFileSystem lfs) {
        // Hadoop's local filesystem keeps a CRC of each file it wrote in a hidden ".<name>.crc" beside it and checks
        // it on every read: a file replaced behind its back must lose that CRC, or the next read through Hadoop
        // fails with a ChecksumException (a manifest rewritten by tune, then read by a second tune or an incremental
        // build). Deleted before the move: a reader in between reads the old content unchecked, never the new
        // content against the old CRC.
        Files.deleteIfExists(lfs.pathToFile(lfs.getChecksumFile(hp)).toPath());
      }
      // a killed publish's or tune's leftover temp file of this name is deleted (io.quarry.jobs.StaleTemp)
      String prefix = local.getFileName() + ".tmp-";
      io.quarry.jobs.StaleTemp.cleanLocal(local.getParent(), prefix, System.currentTimeMillis(), "publish");
      Path tmp = local.resolveSibling(prefix + io.quarry.jobs.StaleTemp.suffix());
      Files.write(tmp, bytes);
      Files.move(tmp, local, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } else {
      try (var out = fs.create(hp, true)) {
        out.write(bytes);
      }
    }
  }
}
