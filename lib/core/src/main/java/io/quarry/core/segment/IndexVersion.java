package io.quarry.core.segment;

import io.quarry.core.quant.QuantizerModel;
import io.quarry.core.quant.format.QuantizerFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A published index version opened from a local directory ({@code <index>/<version>/}): its manifest, quantizer and
 * the dense part of every shard, memory-mapped. Spark-free; used by the evaluation job (after copying the version
 * from the Hadoop filesystem) and by the serving jar. The BM25 part is opened by {@code io.quarry.lexical.Bm25Index}.
 *
 * <p>Opening verifies, in order: the manifest (format version, required fields), every listed file's size and
 * SHA-256 (when {@code verify}), each segment file's header and CRC32 footer, and that the shards agree with the
 * manifest (nlist, codeSize, dim, entry counts), and — always, verified or not — that every shard's IVF list ids are
 * in range and unique ({@link IvfListsFile#validateIds}). Any failure is a {@link CorruptIndexFileException} naming the
 * file. Shards of an incremental version carry tombstones ({@link Shard#deleted}, from the manifest's
 * {@code deletedDocs}): searches over this version skip them. Without {@code verify}, corrupt PQ code bytes are not detected (every byte value is a legal code): the SHA-256
 * and CRC32 checks are the defence against them.
 */
public final class IndexVersion {
  private final Path dir;
  private final IndexManifest manifest;
  private final QuantizerModel quantizer;
  private final List<Shard> shards;
  /** Per extra dense field (manifest {@code denseFields}, by name): its vectors, one file per shard in shard order. */
  private final java.util.Map<String, List<RescoreVectorsFile>> fields;

  /**
   * The dense part of one shard.
   *
   * @param id shard id
   * @param dir shard directory
   * @param listFrom first IVF list the shard owns
   * @param listTo one past the last IVF list the shard owns
   * @param lists memory-mapped inverted lists (PQ codes + ids)
   * @param table id → (chunk id, doc id, offsets)
   * @param vectors vectors for exact re-scoring, or null when the version has {@code rescore = none}
   * @param deleted shard-local ids hidden by tombstones (chunks of the manifest's {@code deletedDocs} of this
   *     shard); empty for a shard without tombstones. Searches never return them.
   */
  public record Shard(int id, Path dir, int listFrom, int listTo, IvfListsFile lists, ChunkTableFile table,
      RescoreVectorsFile vectors, java.util.BitSet deleted) {
    /** Whether shard-local id {@code id} is live (not tombstoned). */
    public boolean live(int id) {
      return !deleted.get(id);
    }

    /** Number of tombstoned chunks. */
    public int deletedCount() {
      return deleted.cardinality();
    }
  }

  private IndexVersion(Path dir, IndexManifest manifest, QuantizerModel quantizer, List<Shard> shards,
      java.util.Map<String, List<RescoreVectorsFile>> fields) {
    this.dir = dir;
    this.manifest = manifest;
    this.quantizer = quantizer;
    this.shards = shards;
    this.fields = fields;
  }

  /**
   * Reads the manifest of a version directory without opening the shards.
   *
   * @throws CorruptIndexFileException if it is missing or invalid
   */
  public static IndexManifest readManifest(Path versionDir) throws IOException {
    Path m = versionDir.resolve(IndexManifest.FILE_NAME);
    if (!Files.isRegularFile(m)) {
      throw new CorruptIndexFileException(m.toString(), "missing: not a complete index version");
    }
    return IndexManifest.parse(Files.readAllBytes(m), m.toString());
  }

  /**
   * Opens the version in {@code versionDir}.
   *
   * @param verify verify every file's SHA-256 against the manifest and every segment file's CRC32 (reads every byte
   *     once); the format checks (magic, version, lengths) always run
   * @throws CorruptIndexFileException naming the file on any check failure
   * @throws IOException on read errors
   */
  public static IndexVersion open(Path versionDir, boolean verify) throws IOException {
    IndexManifest m = readManifest(versionDir);
    if (verify) {
      for (IndexManifest.FileEntry e : m.allFiles()) {
        Checksums.verify(versionDir, e);
      }
    }
    Path qf = Checksums.resolveInside(versionDir, m.quantizer().path());
    QuantizerModel q;
    try (InputStream in = Files.newInputStream(qf)) {
      q = QuantizerFormat.read(in, qf.toString());
    }
    if (q.dim() != m.dim() || q.nlist() != m.nlist() || q.codeSize() != m.codeSize()) {
      throw new CorruptIndexFileException(qf.toString(), "quantizer (dim " + q.dim() + ", nlist " + q.nlist()
          + ", codeSize " + q.codeSize() + ") does not match the manifest (dim " + m.dim() + ", nlist " + m.nlist()
          + ", codeSize " + m.codeSize() + ")");
    }
    List<Shard> shards = new ArrayList<>();
    for (IndexManifest.Shard s : m.shards()) {
      Path sd = Checksums.resolveInside(versionDir, s.dir());
      IvfListsFile lists = IvfListsFile.open(sd.resolve(IvfListsFile.FILE_NAME), s.id(), verify);
      Path lf = sd.resolve(IvfListsFile.FILE_NAME);
      if (lists.nlist() != m.nlist() || lists.codeSize() != m.codeSize() || lists.entries() != s.chunks()) {
        throw new CorruptIndexFileException(lf.toString(), "nlist " + lists.nlist() + ", codeSize "
            + lists.codeSize() + ", entries " + lists.entries() + " disagree with the manifest");
      }
      // ids are checked on every load, with or without checksum verification (cheap, and a bad id would otherwise
      // fail or corrupt searches); PQ code bytes are covered by the checksums (verify) and the padding-bit check
      lists.validateIds(lf.toString(), s.chunks(), s.listFrom(), s.listTo());
      if (!q.spec().isFlat()) {
        lists.validatePqPadding(lf.toString(), q.m(), q.nbits());
      }
      ChunkTableFile table = ChunkTableFile.open(sd.resolve(ChunkTableFile.FILE_NAME), s.id(), verify);
      if (table.size() != s.chunks()) {
        throw new CorruptIndexFileException(sd.resolve(ChunkTableFile.FILE_NAME).toString(),
            table.size() + " rows, manifest says " + s.chunks());
      }
      RescoreVectorsFile vectors = null;
      if (!"none".equals(m.rescore())) {
        Path vf = sd.resolve(RescoreVectorsFile.FILE_NAME);
        vectors = RescoreVectorsFile.open(vf, s.id(), verify);
        if (vectors.size() != s.chunks() || vectors.dim() != m.dim()) {
          throw new CorruptIndexFileException(vf.toString(), vectors.size() + " × " + vectors.dim()
              + " vectors, manifest says " + s.chunks() + " × " + m.dim());
        }
      }
      java.util.BitSet deleted = new java.util.BitSet();
      if (!s.tombstones().isEmpty()) {
        java.util.Set<String> docs = new java.util.HashSet<>(s.tombstones());
        for (int i = 0; i < table.size(); i++) {
          if (docs.contains(table.docId(i))) {
            deleted.set(i);
          }
        }
      }
      shards.add(new Shard(s.id(), sd, s.listFrom(), s.listTo(), lists, table, vectors, deleted));
    }
    return new IndexVersion(versionDir, m, q, List.copyOf(shards), openFields(versionDir, m, verify));
  }

  /**
   * Opens the vectors of every extra dense field ({@link IndexManifest.DenseField}) in every shard, checked like the
   * primary re-scoring vectors: header, CRC32 (when verifying), one vector per chunk of the shard, the field model's
   * dimension and the recorded encoding.
   */
  private static java.util.Map<String, List<RescoreVectorsFile>> openFields(Path versionDir, IndexManifest m,
      boolean verify) throws IOException {
    java.util.Map<String, List<RescoreVectorsFile>> out = new java.util.LinkedHashMap<>();
    for (IndexManifest.DenseField f : m.denseFields()) {
      List<RescoreVectorsFile> perShard = new ArrayList<>();
      for (IndexManifest.Shard s : m.shards()) {
        Path sd = Checksums.resolveInside(versionDir, s.dir());
        Path vf = Checksums.resolveInside(sd, f.path());
        RescoreVectorsFile v = RescoreVectorsFile.open(vf, s.id(), verify);
        if (v.size() != s.chunks() || v.dim() != f.model().dim()
            || (f.encoding() != null && v.encoding() != RescoreVectorsFile.Encoding.parse(f.encoding()))) {
          throw new CorruptIndexFileException(vf.toString(), v.size() + " × " + v.dim() + " " + v.encoding()
              + " vectors, manifest says " + s.chunks() + " × " + f.model().dim() + " " + f.encoding()
              + " for dense field " + f.name());
        }
        perShard.add(v);
      }
      out.put(f.name(), List.copyOf(perShard));
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  /** The manifest's extra dense fields ({@code embedding.extraModels}), in manifest order; empty for most versions. */
  public List<IndexManifest.DenseField> denseFields() {
    return manifest.denseFields();
  }

  /**
   * The vectors of extra dense field {@code name}, one file per shard.
   *
   * @throws IllegalArgumentException if the version has no such field
   */
  public List<RescoreVectorsFile> fieldVectors(String name) {
    List<RescoreVectorsFile> v = fields.get(name);
    if (v == null) {
      throw new IllegalArgumentException("index version " + manifest.version() + " has no dense field " + name
          + " (fields: " + fields.keySet() + ")");
    }
    return v;
  }

  public Path dir() {
    return dir;
  }

  public IndexManifest manifest() {
    return manifest;
  }

  public QuantizerModel quantizer() {
    return quantizer;
  }

  public List<Shard> shards() {
    return shards;
  }

  /**
   * Bytes per vector of the memory-mapped dense search data (the {@code lists.ivf} files: PQ code, int id, list
   * offsets, headers) averaged over all chunks; compare with {@code 4 × dim} for float32.
   */
  public double listBytesPerVector() throws IOException {
    long bytes = 0;
    long n = 0;
    for (Shard s : shards) {
      bytes += Files.size(s.dir().resolve(IvfListsFile.FILE_NAME));
      n += s.lists().entries();
    }
    return n == 0 ? 0 : (double) bytes / n;
  }
}
