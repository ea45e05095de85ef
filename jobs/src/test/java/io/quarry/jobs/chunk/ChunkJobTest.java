package io.quarry.jobs.chunk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarry.jobs.JobContext;
import io.quarry.jobs.SparkTest;
import io.quarry.jobs.SparkTestSupport;
import io.quarry.jobs.JobSummary;
import io.quarry.jobs.avro.ChunkRecord;
import io.quarry.jobs.avro.QuarantineRecord;
import java.io.BufferedReader;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.avro.AvroReadSupport;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The chunk stage on Spark local[2]: the data-samples slice, every kind of bad input, every reader. */
@SparkTest
public class ChunkJobTest {
  static final Path SAMPLES = Path.of("..", "data-samples").toAbsolutePath().normalize();
  static SparkSession spark;

  @TempDir Path tmp;

  @BeforeAll
  static void start() {
    spark = SparkTestSupport.localSpark("chunk-test", 3);
  }

  @AfterAll
  static void stop() {
    SparkTestSupport.release(spark);
  }

  static JobContext ctx(Path work, String... overrides) {
    return SparkTestSupport.context(spark, work, overrides);
  }

  @Test
  void chunksTheSampleCorpusIntoExactSubstrings() throws Exception {
    Path corpus = SAMPLES.resolve("scifact/corpus.jsonl");
    JobContext c = ctx(tmp.resolve("w"), "input.corpus=" + corpus);
    JobSummary s = new ChunkJob().run(c);
    Map<String, JsonNode> docs = new HashMap<>();
    ObjectMapper om = new ObjectMapper();
    try (BufferedReader r = Files.newBufferedReader(corpus)) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        JsonNode n = om.readTree(line);
        docs.put(n.get("_id").asText(), n);
      }
    }
    assertThat(s.get("documents")).isEqualTo((long) docs.size());
    assertThat(s.get("quarantined")).isEqualTo(0L);
    List<Row> rows = spark.read().option("pathGlobFilter", "*.parquet").parquet(c.config().paths().chunksDir()).collectAsList();
    assertThat((long) rows.size()).isEqualTo(s.get("chunks")).isGreaterThan(docs.size());
    Set<String> ids = new HashSet<>();
    Map<String, Integer> perDoc = new HashMap<>();
    for (Row r : rows) {
      String docId = r.getAs("doc_id");
      int ordinal = r.getAs("ordinal");
      assertThat((String) r.getAs("chunk_id")).isEqualTo(docId + "#" + ordinal);
      assertThat(ids.add(r.getAs("chunk_id"))).isTrue();
      String text = docs.get(docId).get("text").asText();
      assertThat(text.substring(r.<Integer>getAs("start_char"), r.<Integer>getAs("end_char")))
          .isEqualTo(r.getAs("text"));
      assertThat(r.<Integer>getAs("n_tokens")).isBetween(1, 256);
      String title = docs.get(docId).get("title").asText();
      assertThat((String) r.getAs("title")).isEqualTo(title.isBlank() ? null : title);
      perDoc.merge(docId, 1, Integer::sum);
    }
    for (Row r : rows) {
      assertThat(r.<Integer>getAs("ordinal")).isLessThan(perDoc.get(r.<String>getAs("doc_id")));
    }
    assertThat(Files.readString(Path.of(ChunkJob.summaryPath(c.config().paths().chunksDir()))))
        .contains("\"chunks\" : " + rows.size());
    assertConforms(Path.of(c.config().paths().chunksDir()), ChunkRecord.getClassSchema(), rows.size());
  }

  @Test
  void sameInputAndConfigGiveIdenticalFiles() throws Exception {
    String corpus = "input.corpus=" + SAMPLES.resolve("scifact/corpus.jsonl");
    JobContext a = ctx(tmp.resolve("a"), corpus, "chunking.method=recursive");
    JobContext b = ctx(tmp.resolve("b"), corpus, "chunking.method=recursive");
    new ChunkJob().run(a);
    new ChunkJob().run(b);
    assertThat(partContents(Path.of(a.config().paths().chunksDir())))
        .isEqualTo(partContents(Path.of(b.config().paths().chunksDir())));
  }

  /** Chunk reuse: unchanged documents' rows are copied, only edited and added ones are tokenized. */
  @Test
  void reusesTheChunksOfUnchangedDocumentsAndGivesTheRowsOfAFullRun() throws Exception {
    List<String> lines = Files.readAllLines(SAMPLES.resolve("scifact/corpus.jsonl")).stream()
        .filter(l -> !l.isBlank()).toList();
    ObjectMapper om = new ObjectMapper();
    Path v1 = tmp.resolve("v1.jsonl");
    Files.write(v1, lines);
    // day 2: the first document edited, the second deleted, one added
    List<String> day2 = new ArrayList<>(lines);
    @SuppressWarnings("unchecked")
    Map<String, Object> first = om.readValue(day2.get(0), Map.class);
    first.put("text", first.get("text") + " Revised: the findings were replicated.");
    day2.set(0, om.writeValueAsString(first));
    day2.remove(1);
    day2.add(om.writeValueAsString(Map.of("_id", "added-1", "title", "New", "text",
        "Aerobic exercise improved memory scores in adults with mild cognitive impairment.")));
    Path v2 = tmp.resolve("v2.jsonl");
    Files.write(v2, day2);

    Path work = tmp.resolve("w");
    JobSummary s1 = new ChunkJob().run(ctx(work, "input.corpus=" + v1, "chunking.reuseFrom=auto"));
    assertThat(s1.get("reuse").toString()).startsWith("none: auto:").contains("first run");
    assertThat(s1.values()).containsEntry("documentsReused", 0L).containsEntry("documentsChunked",
        (long) lines.size());
    JobContext second = ctx(work, "input.corpus=" + v2, "chunking.reuseFrom=auto");
    JobSummary s2 = new ChunkJob().run(second);
    assertThat(s2.values()).containsEntry("reuse", "used").containsEntry("documents", (long) day2.size())
        .containsEntry("documentsReused", (long) day2.size() - 2).containsEntry("documentsChunked", 2L);
    String out = second.config().paths().chunksDir();
    assertThat(Path.of(out + ".staging")).as("staging swapped in").doesNotExist();

    JobContext full = ctx(tmp.resolve("full"), "input.corpus=" + v2);
    JobSummary s3 = new ChunkJob().run(full);
    assertThat(s3.get("reuse").toString()).startsWith("none: chunking.reuseFrom is empty");
    assertThat(sortedRows(out)).as("the same rows as chunking every document")
        .isEqualTo(sortedRows(full.config().paths().chunksDir())).hasSize(((Long) s3.get("chunks")).intValue());
    assertConforms(Path.of(out), ChunkRecord.getClassSchema(), ((Long) s2.get("chunks")).intValue());

    JobContext missing = ctx(tmp.resolve("m"), "input.corpus=" + v2, "chunking.reuseFrom=" + tmp.resolve("nope"));
    assertThatThrownBy(() -> new ChunkJob().preflight(missing)).isInstanceOf(FileNotFoundException.class)
        .hasMessageContaining("chunking.reuseFrom").hasMessageContaining("nope");
  }

  static List<String> sortedRows(String dir) {
    return spark.read().option("pathGlobFilter", "*.parquet").parquet(dir).collectAsList().stream()
        .map(Row::toString).sorted().toList();
  }

  @ParameterizedTest
  @ValueSource(strings = {"corpus.jsonl", "corpus.jsonl.gz", "corpus.jsonl.bz2"})
  void quarantinesEveryKindOfBadRecordAndGoesOn(String file) throws Exception {
    Path corpus = SAMPLES.resolve("bad-inputs").resolve(file);
    JobContext c = ctx(tmp.resolve("w"), "input.corpus=" + corpus, "input.maxDocChars=2000");
    JobSummary s = new ChunkJob().run(c);
    assertThat(s.get("records")).isEqualTo(10L);
    assertThat(s.get("documents")).isEqualTo(3L);
    assertThat(s.get("quarantined")).isEqualTo(7L);
    for (String reason : List.of("malformed_json", "missing_id", "missing_text", "empty_text", "duplicate_id",
        "invalid_utf8", "oversize")) {
      assertThat(s.get("quarantined." + reason)).as(reason).isEqualTo(1L);
    }
    Map<String, Row> byReason = new HashMap<>();
    String qdir = c.config().paths().quarantineDir() + "/chunk";
    for (Row r : spark.read().parquet(qdir).collectAsList()) {
      byReason.put(r.getAs("reason"), r);
    }
    String src = corpus.toUri().toString().replace("file:///", "file:/");
    assertThat((String) byReason.get("malformed_json").getAs("source")).endsWith(file + ":2");
    assertThat((String) byReason.get("missing_id").getAs("source")).endsWith(file + ":3");
    assertThat((String) byReason.get("missing_text").getAs("source")).endsWith(file + ":4");
    assertThat((String) byReason.get("empty_text").getAs("source")).endsWith(file + ":5");
    assertThat((String) byReason.get("duplicate_id").getAs("source")).endsWith(file + ":7");
    assertThat((String) byReason.get("duplicate_id").getAs("detail")).endsWith(file + ":1");
    assertThat((String) byReason.get("duplicate_id").getAs("raw")).contains("Same id as the first line");
    assertThat((String) byReason.get("invalid_utf8").getAs("source")).endsWith(file + ":8");
    assertThat((String) byReason.get("oversize").getAs("source")).endsWith(file + ":10");
    assertThat((String) byReason.get("oversize").getAs("doc_id")).isEqualTo("too-long");
    assertThat(src).isNotBlank();
    List<Row> chunks = spark.read().option("pathGlobFilter", "*.parquet").parquet(c.config().paths().chunksDir()).orderBy("chunk_id").collectAsList();
    assertThat(chunks).extracting(r -> (String) r.getAs("chunk_id")).containsExactly("42#0", "good-1#0", "good-2#0");
    assertThat((String) chunks.get(1).getAs("title")).isEqualTo("Ribosome biogenesis"); // line 1 won, not line 7
    assertThat((String) chunks.get(2).getAs("title")).isNull();
    assertConforms(Path.of(qdir), QuarantineRecord.getClassSchema(), 7);
  }

  /**
   * Issue 14: every input class that was lost, aborted the job or was misreported. A directory with a JSONL file of
   * bad lines, a .bz2 truncated inside its header (fails when opened) and a .zst file: every record is either a
   * document or one quarantine record with its reason and file:line, and the counts add up.
   */
  @Test
  void everyRecordIsIndexedOrQuarantinedWithItsLocation() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("corpus"));
    String bom = "\uFEFF";
    List<String> lines = List.of(
        bom + "{\"_id\": \"bom\", \"text\": \"Starts with a byte order mark.\"}",
        "{\"_id\": \"a\", \"text\": \"first\"}{\"_id\": \"b\", \"text\": \"second on the same line\"}",
        "{\"_id\": \"junk\", \"text\": \"trailing junk\"} oops",
        "{\"_id\": \"sur\", \"text\": \"lone \\ud800 surrogate\"}",
        "{\"_id\": \"zw\", \"text\": \"\u200b\u200c\u2060\"}",
        "{\"_id\": \"doc 1\", \"text\": \"An id with a space.\"}",
        "{\"_id\": \"bom\", \"title\": \"Dup\", \"text\": \"Same id as line 1.\"}",
        "{\"_id\": \"ok-1\", \"text\": \"Plain good document.\"}",
        // only combining marks: valid text, but the uncased model's normalizer strips them all (no token)
        "{\"_id\": \"marks\", \"text\": \"\u0301\u0302\u0303\"}");
    Files.writeString(dir.resolve("a.jsonl"), String.join("\n", lines) + "\n");
    // bz2 cut inside its block header: fails in InputFiles.open ("unexpected end of stream")
    java.io.ByteArrayOutputStream bz = new java.io.ByteArrayOutputStream();
    var bzip2 = new org.apache.hadoop.io.compress.BZip2Codec();
    bzip2.setConf(new Configuration());
    try (var out = bzip2.createOutputStream(bz)) {
      out.write("{\"_id\": \"lost\", \"text\": \"never readable\"}\n".repeat(50).getBytes("UTF-8"));
    }
    Files.write(dir.resolve("b.jsonl.bz2"), java.util.Arrays.copyOf(bz.toByteArray(), 12));
    try (var out = new com.github.luben.zstd.ZstdOutputStream(Files.newOutputStream(dir.resolve("c.jsonl.zst")))) {
      out.write(("{\"_id\": \"z1\", \"text\": \"Read from a zstd file.\"}\n"
          + "{\"_id\": \"z2\", \"text\": \"Also from the zstd file.\"}\n").getBytes("UTF-8"));
    }

    JobContext c = ctx(tmp.resolve("w"), "input.corpus=" + dir, "input.maxDocChars=2000");
    JobSummary s = new ChunkJob().run(c);
    assertThat(s.get("records")).isEqualTo(12L);
    assertThat(s.get("documents")).isEqualTo(4L);
    assertThat(s.get("quarantined")).isEqualTo(8L);
    assertThat((Long) s.get("documents") + (Long) s.get("quarantined")).isEqualTo(s.get("records"));
    assertThat(s.get("quarantined.trailing_data")).isEqualTo(2L);
    for (String reason : List.of("invalid_unicode", "empty_text", "invalid_id", "duplicate_id", "unreadable",
        "no_tokens")) {
      assertThat(s.get("quarantined." + reason)).as(reason).isEqualTo(1L);
    }
    Map<String, List<Row>> byReason = new HashMap<>();
    for (Row r : spark.read().parquet(c.config().paths().quarantineDir() + "/chunk").collectAsList()) {
      byReason.computeIfAbsent(r.getAs("reason"), k -> new ArrayList<>()).add(r);
    }
    List<Row> trailing = byReason.get("trailing_data");
    assertThat(trailing).extracting(r -> (String) r.getAs("source")).anyMatch(x -> x.endsWith("a.jsonl:2"))
        .anyMatch(x -> x.endsWith("a.jsonl:3"));
    assertThat(trailing).extracting(r -> (String) r.getAs("raw")).anyMatch(x -> x.contains("second on the same line"));
    Row sur = byReason.get("invalid_unicode").get(0);
    assertThat((String) sur.getAs("source")).endsWith("a.jsonl:4");
    assertThat((String) sur.getAs("doc_id")).isEqualTo("sur");
    Row zw = byReason.get("empty_text").get(0);
    assertThat((String) zw.getAs("source")).endsWith("a.jsonl:5");
    assertThat((String) zw.getAs("doc_id")).isEqualTo("zw");
    Row id = byReason.get("invalid_id").get(0);
    assertThat((String) id.getAs("source")).endsWith("a.jsonl:6");
    assertThat((String) id.getAs("doc_id")).isEqualTo("doc 1");
    Row dup = byReason.get("duplicate_id").get(0);
    assertThat((String) dup.getAs("source")).endsWith("a.jsonl:7");
    assertThat((String) dup.getAs("raw")).contains("Same id as line 1.");
    Row marks = byReason.get("no_tokens").get(0);
    assertThat((String) marks.getAs("source")).endsWith("a.jsonl:9");
    assertThat((String) marks.getAs("doc_id")).isEqualTo("marks");
    assertThat((String) marks.getAs("raw")).contains("marks");
    Row unreadable = byReason.get("unreadable").get(0);
    assertThat((String) unreadable.getAs("source")).endsWith("b.jsonl.bz2");
    assertThat((String) unreadable.getAs("detail")).contains("b.jsonl.bz2");
    List<Row> chunks = spark.read().option("pathGlobFilter", "*.parquet").parquet(c.config().paths().chunksDir())
        .orderBy("chunk_id").collectAsList();
    assertThat(chunks).extracting(r -> (String) r.getAs("doc_id")).containsExactly("bom", "ok-1", "z1", "z2");
    assertThat((String) chunks.get(0).getAs("text")).isEqualTo("Starts with a byte order mark."); // line 1 won
    assertConforms(Path.of(c.config().paths().quarantineDir() + "/chunk"), QuarantineRecord.getClassSchema(), 8);
  }

  @Test
  void corruptCompressedFileIsQuarantinedAsUnreadableAndTheJobGoesOn() throws Exception {
    Path corpus = SAMPLES.resolve("bad-inputs/truncated.jsonl.gz");
    JobContext c = ctx(tmp.resolve("w"), "input.corpus=" + corpus, "input.maxDocChars=2000");
    JobSummary s = new ChunkJob().run(c);
    assertThat(s.get("quarantined.unreadable")).isEqualTo(1L);
    assertThat((Long) s.get("documents")).isGreaterThanOrEqualTo(1L);
    Row q = spark.read().parquet(c.config().paths().quarantineDir() + "/chunk")
        .filter("reason = 'unreadable'").first();
    assertThat((String) q.getAs("source")).matches(".*truncated\\.jsonl\\.gz:\\d+");
  }

  @Test
  void readsADirectoryOfTextMarkdownAndHtml() throws Exception {
    JobContext c = ctx(tmp.resolve("w"), "input.format=text",
        "input.corpus=" + SAMPLES.resolve("bad-inputs/docs"));
    JobSummary s = new ChunkJob().run(c);
    assertThat(s.get("quarantined.empty_text")).isEqualTo(1L);
    assertThat(s.get("quarantined.invalid_utf8")).isEqualTo(1L);
    Map<String, Row> byDoc = new HashMap<>();
    for (Row r : spark.read().option("pathGlobFilter", "*.parquet").parquet(c.config().paths().chunksDir()).collectAsList()) {
      byDoc.put(r.getAs("doc_id"), r);
    }
    assertThat(byDoc.keySet()).containsExactlyInAnyOrder("page.html", "notes.md", "sub/plain.txt", "sub/gz.txt.gz");
    assertThat((String) byDoc.get("page.html").getAs("title")).isEqualTo("Protein folding");
    assertThat((String) byDoc.get("page.html").getAs("text"))
        .isEqualTo("Chaperones\n\nChaperones help proteins fold.\n\nMisfolded proteins aggregate.");
    assertThat((String) byDoc.get("notes.md").getAs("title")).isEqualTo("Cell cycle");
    assertThat((String) byDoc.get("sub/gz.txt.gz").getAs("text"))
        .isEqualTo("Compressed text files are read transparently.");
  }

  @Test
  void readsParquetWithConfiguredColumns() throws Exception {
    StructType st = new StructType().add("doc", DataTypes.LongType).add("heading", DataTypes.StringType)
        .add("body", DataTypes.StringType);
    Path in = tmp.resolve("in.parquet");
    spark.createDataFrame(List.of(RowFactory.create(1L, "T1", "first body"), RowFactory.create(2L, null, "  "),
        RowFactory.create(3L, "T3", null), RowFactory.create(1L, "again", "dup")), st)
        .coalesce(1).write().parquet(in.toString());
    JobContext c = ctx(tmp.resolve("w"), "input.format=parquet", "input.corpus=" + in, "input.idField=doc",
        "input.titleField=heading", "input.textField=body");
    JobSummary s = new ChunkJob().run(c);
    assertThat(s.get("documents")).isEqualTo(1L);
    assertThat(s.get("quarantined.empty_text")).isEqualTo(1L);
    assertThat(s.get("quarantined.missing_text")).isEqualTo(1L);
    assertThat(s.get("quarantined.duplicate_id")).isEqualTo(1L);
    Row q = spark.read().parquet(c.config().paths().quarantineDir() + "/chunk")
        .filter("reason = 'duplicate_id'").first();
    assertThat((String) q.getAs("source")).endsWith("#3");
  }

  @Test
  void missingInputFailsFastNamingIt() {
    JobContext c = ctx(tmp.resolve("w"), "input.corpus=" + tmp.resolve("nope.jsonl"));
    assertThatThrownBy(() -> new ChunkJob().run(c)).isInstanceOf(FileNotFoundException.class)
        .hasMessageContaining("input.corpus").hasMessageContaining("nope.jsonl");
  }

  @Test
  void unreadableModelFailsFastNamingIt() {
    JobContext c = ctx(tmp.resolve("w"), "input.corpus=" + SAMPLES.resolve("bad-inputs/corpus.jsonl"),
        "embedding.model=custom", "embedding.modelPath=" + tmp.resolve("no-model"));
    assertThatThrownBy(() -> new ChunkJob().run(c)).hasMessageContaining("no-model");
  }

  /** Every Parquet file of {@code dir}: the columns and nullability of the Avro schema, every record valid under it. */
  public static void assertConforms(Path dir, Schema schema, long expected) throws Exception {
    Configuration conf = new Configuration();
    // Spark writes standard 3-level Parquet lists (list.element): read them as plain Avro arrays
    conf.setBoolean(org.apache.parquet.avro.AvroSchemaConverter.ADD_LIST_ELEMENT_RECORDS, false);
    AvroReadSupport.setAvroReadSchema(conf, schema);
    long n = 0;
    List<Path> parts;
    try (Stream<Path> s = Files.list(dir)) {
      parts = s.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().toList();
    }
    for (Path p : parts) {
      org.apache.parquet.schema.MessageType fileSchema;
      try (var r = org.apache.parquet.hadoop.ParquetFileReader.open(
          HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(p.toString()), conf))) {
        fileSchema = r.getFooter().getFileMetaData().getSchema();
      }
      for (Schema.Field f : schema.getFields()) {
        assertThat(fileSchema.containsField(f.name())).as(p + " has column " + f.name()).isTrue();
        boolean nullable = f.schema().getType() == Schema.Type.UNION;
        assertThat(fileSchema.getType(f.name()).isRepetition(
            org.apache.parquet.schema.Type.Repetition.REQUIRED)).as(f.name() + " required").isEqualTo(!nullable);
      }
      assertThat(fileSchema.getFieldCount()).isEqualTo(schema.getFields().size());
      try (ParquetReader<GenericRecord> r = AvroParquetReader.<GenericRecord>builder(
          HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(p.toString()), conf))
          .withDataModel(GenericData.get()).withConf(conf).build()) {
        for (GenericRecord rec = r.read(); rec != null; rec = r.read()) {
          assertThat(GenericData.get().validate(schema, rec)).as(rec.toString()).isTrue();
          n++;
        }
      }
    }
    assertThat(n).isEqualTo(expected);
  }

  public static List<String> partContents(Path dir) throws Exception {
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.filter(x -> x.getFileName().toString().endsWith(".parquet")).sorted().toList()) {
        out.add(p.getFileName().toString().substring(0, 10) + ":"
            + io.quarry.embed.ModelFiles.sha256(Files.readAllBytes(p)));
      }
    }
    return out;
  }
}
