package io.quarry.core.segment;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.quarry.core.platform.Platform;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code manifest.json} of one index version, written last by the build: a version directory without a manifest does
 * not exist for readers. Lists every file of the version with its size and SHA-256 so a reader (or a downloader)
 * verifies what it loads. Paths are relative to the version directory and use {@code /}.
 *
 * <p>The manifest holds no timestamps: the same input, config and seed give a byte-identical manifest.
 *
 * @param formatVersion manifest/segment format version; readers accept {@value #FORMAT_VERSION}
 * @param version the index version id (also the directory name)
 * @param indexSpec the quantizer's index spec in FAISS notation, e.g. {@code IVF64,PQ48x8}
 * @param metric {@code ip} or {@code l2}
 * @param dim embedding dimension
 * @param nlist IVF lists
 * @param codeSize bytes per PQ code
 * @param sharding {@code hash} or {@code ivf}
 * @param rescore {@code float32}, {@code sq8} or {@code none}
 * @param model embedding model of the vectors (queries must be embedded with the same one), with the processor
 *     kinds and ONNX Runtime version that computed them
 * @param bm25 BM25 parameters of the lexical part, or null if the version has none
 * @param quantizer the trained quantizer file copied into the version
 * @param shards one entry per shard, by shard id
 * @param chunks total chunks
 * @param docs total documents
 * @param configHash SHA-256 of the resolved config
 * @param config the resolved config (JSON)
 * @param createdBy producer and its version
 * @param search the search defaults chosen by {@code quarry tune} on training qrels (null: untuned; serving and
 *     evaluation then use the built-in defaults); the only field written after the build, outside the file list
 * @param refresh how an incremental build made this version from its base (null for a full build): change counts,
 *     drift measures, tombstone share; a version with tombstones has {@code formatVersion}
 *     {@value #INCREMENTAL_FORMAT_VERSION}, so readers that do not know tombstones refuse it instead of serving
 *     deleted documents
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record IndexManifest(
    int formatVersion,
    String version,
    String indexSpec,
    String metric,
    int dim,
    int nlist,
    int codeSize,
    String sharding,
    String rescore,
    Model model,
    Bm25 bm25,
    FileEntry quantizer,
    List<Shard> shards,
    long chunks,
    long docs,
    String configHash,
    JsonNode config,
    String createdBy,
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    SearchDefaults search,
    @JsonInclude(JsonInclude.Include.NON_NULL)
    Refresh refresh,
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    List<DenseField> denseFields) {

  /** Null-safe: no extra dense fields is the empty list (and is not written). */
  public IndexManifest {
    denseFields = denseFields == null ? List.of() : List.copyOf(denseFields);
  }

  /**
   * An extra dense field of the version (issue 26, {@code embedding.extraModels}): the same chunks embedded with
   * another model, stored per shard as re-scoring vectors ({@code <shard>/<path>}, codec {@code quarry.vectors}, the
   * shard-local ids of {@code chunks.tbl}); listed in each shard's {@code files} with size and SHA-256 like every other
   * file. Its signal is searched exactly (a flat scan of the vectors) and fused with BM25 and the primary dense signal.
   *
   * @param name the field's name: the model id; its signal and stage are {@code dense@<name>}
   * @param model the model that embedded the chunks; queries must be embedded with the same one ({@link
   *     Model#mismatch})
   * @param path the vectors file, relative to each shard directory
   * @param encoding {@code float32} or {@code sq8}
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record DenseField(String name, Model model, String path, String encoding)
      implements java.io.Serializable {
    /** The signal (and evaluation stage) name of this field: {@code dense@<name>}. */
    public String signal() {
      return "dense@" + name;
    }

    /** The vectors file of field {@code name} relative to a shard directory: {@code dense@<name>/vectors.bin}. */
    public static String pathOf(String name) {
      return "dense@" + name + "/" + RescoreVectorsFile.FILE_NAME;
    }
  }

  /** A manifest without extra dense fields. */
  public IndexManifest(int formatVersion, String version, String indexSpec, String metric, int dim, int nlist,
      int codeSize, String sharding, String rescore, Model model, Bm25 bm25, FileEntry quantizer, List<Shard> shards,
      long chunks, long docs, String configHash, JsonNode config, String createdBy, SearchDefaults search,
      Refresh refresh) {
    this(formatVersion, version, indexSpec, metric, dim, nlist, codeSize, sharding, rescore, model, bm25, quantizer,
        shards, chunks, docs, configHash, config, createdBy, search, refresh, List.of());
  }

  /** Manifest format version of a version without tombstones (every full build). */
  public static final int FORMAT_VERSION = 1;
  /**
   * Manifest format version of a version whose shards carry tombstones ({@link Shard#deletedDocs}): readers before
   * issue 15 reject it (they would serve deleted documents); this code reads both.
   */
  public static final int INCREMENTAL_FORMAT_VERSION = 2;
  /** File name of the manifest in a version directory. */
  public static final String FILE_NAME = "manifest.json";
  /** File name of the pointer to the published version in the index root. */
  public static final String CURRENT = "CURRENT";

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
      .build();

  /**
   * Embedding model identity, and where its vectors were computed.
   *
   * @param modelId model id
   * @param sha256 SHA-256 of the ONNX file
   * @param dim embedding dimension
   * @param platforms the executors' processor kinds and ONNX Runtime version that embedded the chunks (the int8
   *     models' vectors depend on them); null in manifests of older builds (optional when reading)
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Model(String modelId, String sha256, int dim,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<Platform> platforms) implements java.io.Serializable {
    /** A model without recorded platforms. */
    public Model(String modelId, String sha256, int dim) {
      this(modelId, sha256, dim, null);
    }

    /**
     * The one check that queries embedded by {@code queries} can search an index whose chunks this model embedded:
     * the same id, the same weights (SHA-256 of the ONNX file) and the same dimension. Serving, evaluation and
     * tuning all call it; the platforms are not compared (int8 vectors differ slightly between processor kinds,
     * which is reported elsewhere, not refused).
     *
     * @param version the index version, named in the message
     * @return null when they match, else why not (naming the version and both models)
     */
    public String mismatch(String version, Model queries) {
      if (!modelId.equals(queries.modelId()) || !sha256.equals(queries.sha256())) {
        return "index version " + version + " was embedded with " + modelId + " (sha256 " + sha256
            + ") but queries would be embedded with " + queries.modelId() + " (sha256 " + queries.sha256()
            + "); refusing to mix models";
      }
      if (dim != queries.dim()) {
        return "index version " + version + " has dimension " + dim + " but the query model's is " + queries.dim();
      }
      return null;
    }
  }

  /** Lexical part parameters (Robertson and Zaragoza 2009; defaults as Anserini). */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Bm25(double k1, double b, String analyzer) implements java.io.Serializable {}

  /** One file of the version: path relative to the version directory, size in bytes, SHA-256 hex. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record FileEntry(String path, long bytes, String sha256) implements java.io.Serializable {}

  /**
   * One shard.
   *
   * @param id shard id (0-based)
   * @param dir directory relative to the version, {@code shard-NNNNN}
   * @param chunks chunks in the shard (shard-local ids are {@code [0, chunks)})
   * @param docs documents with at least one chunk in the shard
   * @param listFrom first IVF list the shard owns (0 for hash sharding)
   * @param listTo one past the last IVF list the shard owns ({@code nlist} for hash sharding)
   * @param files the shard's files
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Shard(int id, String dir, long chunks, long docs, int listFrom, int listTo, List<FileEntry> files,
      @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> deletedDocs) implements java.io.Serializable {
    /** A shard without tombstones. */
    public Shard(int id, String dir, long chunks, long docs, int listFrom, int listTo, List<FileEntry> files) {
      this(id, dir, chunks, docs, listFrom, listTo, files, null);
    }

    /** Tombstoned document ids (sorted), never null. */
    public List<String> tombstones() {
      return deletedDocs == null ? List.of() : deletedDocs;
    }
  }

  /**
   * How an incremental build derived this version from its base (issue 15), also the drift measures its decision
   * was made on.
   *
   * @param base the base version id
   * @param keptShards shards of the base kept (copied byte for byte, with their files' SHA-256)
   * @param deltaShards new shards holding the added and changed documents
   * @param unchangedDocs live documents of the base whose content digest is unchanged
   * @param addedDocs documents not live in the base
   * @param changedDocs live documents of the base whose content digest changed (tombstoned, re-added in a delta)
   * @param deletedDocs live documents of the base missing from the new input (tombstoned)
   * @param changedShare {@code (added + changed + deleted) / live documents of the base}
   * @param newVectors vectors encoded with the frozen quantizer (the delta shards' chunks)
   * @param newVectorMse mean squared quantization error of those vectors ({@code ||x − decode(encode(x))||²})
   * @param trainingMse the error recorded at training: the quantizer's held-out estimate {@code pq.mse.heldout}
   *     ({@code pq.mse} for quantizers trained before it was recorded), or null if absent
   * @param mseRatio {@code newVectorMse / trainingMse}, or null
   * @param imbalanceFactor FAISS's {@code imbalance_factor} of the new vectors' IVF list sizes
   *     ({@code nlist · Σ size² / n²}; 1 = perfectly even), or null without new vectors
   * @param tombstonedChunks stored chunks of this version hidden by tombstones
   * @param tombstoneShare {@code tombstonedChunks / stored chunks}
   * @param path {@code incremental} (base shards kept, delta shards added) or {@code compact} (every shard rewritten
   *     from the current inputs with the base's frozen quantizer; then {@code keptShards} is 0, {@code deltaShards}
   *     is every shard, and {@code newVectors} counts the changed documents' chunks only)
   * @param reasons why {@code compact} was taken (empty for {@code incremental})
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Refresh(String base, int keptShards, int deltaShards, long unchangedDocs, long addedDocs,
      long changedDocs, long deletedDocs, double changedShare, long newVectors, Double newVectorMse,
      Double trainingMse, Double mseRatio, Double imbalanceFactor, long tombstonedChunks, double tombstoneShare,
      String path, List<String> reasons) implements java.io.Serializable {
    /** This record with the outcome of the decision and the shard counts of the version written. */
    public Refresh as(String newPath, List<String> newReasons, int kept, int delta, long tombChunks,
        double tombShare) {
      return new Refresh(base, kept, delta, unchangedDocs, addedDocs, changedDocs, deletedDocs, changedShare,
          newVectors, newVectorMse, trainingMse, mseRatio, imbalanceFactor, tombChunks, tombShare, newPath,
          List.copyOf(newReasons));
    }
  }

  /**
   * Search parameters tuned for this version ({@code quarry tune}), used when a request or the evaluation config does
   * not set them.
   *
   * @param fusion fusion spec text ({@link io.quarry.core.search.FusionSpec#parse})
   * @param nprobe IVF lists probed
   * @param bm25Depth BM25 candidates per query
   * @param denseDepth ADC candidates per query
   * @param tunedOn the training qrels the choice was made on (path) and the number of queries, for provenance
   * @param objective the metric maximized, e.g. {@code nDCG@10}
   * @param value its mean over the training queries at the chosen setting
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record SearchDefaults(String fusion, Integer nprobe, Integer bm25Depth, Integer denseDepth, String tunedOn,
      String objective, Double value) implements java.io.Serializable {}

  /** A manifest of a full build (no {@code refresh}). */
  public IndexManifest(int formatVersion, String version, String indexSpec, String metric, int dim, int nlist,
      int codeSize, String sharding, String rescore, Model model, Bm25 bm25, FileEntry quantizer, List<Shard> shards,
      long chunks, long docs, String configHash, JsonNode config, String createdBy, SearchDefaults search) {
    this(formatVersion, version, indexSpec, metric, dim, nlist, codeSize, sharding, rescore, model, bm25, quantizer,
        shards, chunks, docs, configHash, config, createdBy, search, null);
  }

  /** This manifest with {@code search} replaced. */
  public IndexManifest withSearch(SearchDefaults s) {
    return new IndexManifest(formatVersion, version, indexSpec, metric, dim, nlist, codeSize, sharding, rescore, model,
        bm25, quantizer, shards, chunks, docs, configHash, config, createdBy, s, refresh, denseFields);
  }

  /** This manifest with its extra dense fields and shards (their files) replaced. */
  public IndexManifest withDenseFields(List<DenseField> fields, List<Shard> newShards) {
    return new IndexManifest(formatVersion, version, indexSpec, metric, dim, nlist, codeSize, sharding, rescore, model,
        bm25, quantizer, newShards, chunks, docs, configHash, config, createdBy, search, refresh, fields);
  }

  /** Directory name of shard {@code id}: {@code shard-00042}. */
  public static String shardDir(int id) {
    return String.format("shard-%05d", id);
  }

  /** Serializes as indented JSON (UTF-8). */
  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException("manifest serialization failed", e);
    }
  }

  /**
   * Parses and checks a manifest.
   *
   * @param name the file name for error messages
   * @throws CorruptIndexFileException naming the file if the JSON is invalid, the format version is unsupported or a
   *     required field is missing
   */
  public static IndexManifest parse(byte[] json, String name) throws CorruptIndexFileException {
    IndexManifest m;
    try {
      m = JSON.readValue(json, IndexManifest.class);
    } catch (IOException e) {
      throw new CorruptIndexFileException(name, "invalid manifest JSON: " + e.getMessage());
    }
    if (m.formatVersion() != FORMAT_VERSION && m.formatVersion() != INCREMENTAL_FORMAT_VERSION) {
      throw new CorruptIndexFileException(name, "unsupported formatVersion " + m.formatVersion() + " (this reader "
          + "supports " + FORMAT_VERSION + " and " + INCREMENTAL_FORMAT_VERSION + ")");
    }
    if (m.version() == null || m.shards() == null || m.shards().isEmpty() || m.quantizer() == null
        || m.model() == null || m.metric() == null) {
      throw new CorruptIndexFileException(name, "missing required field (version, shards, quantizer, model, metric)");
    }
    java.util.Set<String> fieldNames = new java.util.HashSet<>();
    for (DenseField f : m.denseFields()) {
      if (f == null || f.name() == null || f.model() == null || f.path() == null || !fieldNames.add(f.name())
          || f.name().equals(m.model().modelId())) {
        throw new CorruptIndexFileException(name, "invalid or repeated dense field " + f);
      }
    }
    for (int i = 0; i < m.shards().size(); i++) {
      if (m.shards().get(i).id() != i) {
        throw new CorruptIndexFileException(name, "shard " + i + " has id " + m.shards().get(i).id());
      }
      if (!m.shards().get(i).tombstones().isEmpty() && m.formatVersion() != INCREMENTAL_FORMAT_VERSION) {
        throw new CorruptIndexFileException(name, "shard " + i + " has tombstones but formatVersion is "
            + m.formatVersion());
      }
    }
    return m;
  }

  /** Parses UTF-8 text; see {@link #parse(byte[], String)}. */
  public static IndexManifest parse(String json, String name) throws CorruptIndexFileException {
    return parse(json.getBytes(StandardCharsets.UTF_8), name);
  }

  /** Every file of the version (quantizer first, then shard files in order). */
  public List<FileEntry> allFiles() {
    java.util.ArrayList<FileEntry> all = new java.util.ArrayList<>();
    all.add(quantizer);
    for (Shard s : shards) {
      all.addAll(s.files());
    }
    return all;
  }
}
