package io.quarry.core.config;

/**
 * Where each stage reads and writes. Any Hadoop filesystem URI works ({@code file://}, {@code s3a://}, a bare
 * local path). Stage outputs default to sub-directories of {@code work}; set one explicitly to relocate it.
 *
 * @param work root of all stage outputs
 * @param chunks chunk dataset (Parquet); default {@code <work>/chunks}
 * @param embeddings embedding dataset (Parquet); default {@code <work>/embeddings}
 * @param quantizer trained quantizer model; default {@code <work>/quantizer}
 * @param index index root holding one directory per version plus {@code CURRENT}; default {@code <work>/index}
 * @param eval evaluation outputs, one directory per run id; default {@code <work>/eval}
 * @param quarantine malformed input records with their reason; default {@code <work>/quarantine}
 */
public record PathsConfig(
    String work, String chunks, String embeddings, String quantizer, String index, String eval, String quarantine)
    implements ConfigSection {

  public String chunksDir() {
    return orDefault(chunks, "chunks");
  }

  public String embeddingsDir() {
    return orDefault(embeddings, "embeddings");
  }

  public String quantizerDir() {
    return orDefault(quantizer, "quantizer");
  }

  public String indexDir() {
    return orDefault(index, "index");
  }

  public String evalDir() {
    return orDefault(eval, "eval");
  }

  public String quarantineDir() {
    return orDefault(quarantine, "quarantine");
  }

  private String orDefault(String explicit, String name) {
    if (explicit != null && !explicit.isBlank()) {
      return explicit;
    }
    return work.endsWith("/") ? work + name : work + "/" + name;
  }

  @Override
  public void validate(String path, Violations v) {
    v.notBlank(work, path + ".work");
  }
}
