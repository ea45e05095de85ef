package io.quarry.lexical;

import io.quarry.core.segment.ShardEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LogByteSizeMergePolicy;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.FSDirectory;

/**
 * Writes the lexical part of a shard: a Lucene index in {@code <shard>/bm25/} with one Lucene document per chunk.
 *
 * <p>Fields: {@value #CONTENTS} (title + text, analyzed with Lucene's {@link EnglishAnalyzer}: standard tokenizer,
 * English possessive filter, lower-casing, English stopwords, Porter stemming; not stored), {@value #TEXT} (stored
 * chunk text), {@value #CHUNK_ID} and {@value #DOC_ID} (stored, not analyzed), {@value #LID} (shard-local id as
 * numeric doc values and stored), {@value #START} / {@value #END} (stored character offsets). BM25 (Robertson and
 * Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond", 2009) with {@code k1}, {@code b} from
 * {@code segments.bm25K1/bm25B}; the index is force-merged to one Lucene segment.
 *
 * <p>Lucene embeds random segment ids in its files, so unlike Quarry's own segment files the {@code bm25/} bytes
 * differ between two builds of the same input (their content and scores do not).
 */
public final class Bm25ShardWriter {
  /** Sub-directory of the shard holding the Lucene index. */
  public static final String DIR = "bm25";
  public static final String CONTENTS = "contents";
  public static final String TEXT = "text";
  public static final String CHUNK_ID = "chunk_id";
  public static final String DOC_ID = "doc_id";
  public static final String LID = "lid";
  public static final String START = "start_char";
  public static final String END = "end_char";

  private Bm25ShardWriter() {}

  /** The analyzer used at index and query time. */
  public static EnglishAnalyzer analyzer() {
    return new EnglishAnalyzer();
  }

  /**
   * Writes {@code entries} (entry {@code i} has shard-local id {@code i}) into {@code shardDir/bm25}.
   *
   * @throws IOException on write failure
   */
  public static void write(Path shardDir, List<ShardEntry> entries, double k1, double b) throws IOException {
    try (EnglishAnalyzer analyzer = analyzer();
        FSDirectory dir = FSDirectory.open(shardDir.resolve(DIR))) {
      IndexWriterConfig iwc = new IndexWriterConfig(analyzer)
          .setSimilarity(new BM25Similarity((float) k1, (float) b))
          .setOpenMode(IndexWriterConfig.OpenMode.CREATE)
          .setRAMBufferSizeMB(64)
          .setMergePolicy(new LogByteSizeMergePolicy())
          .setUseCompoundFile(true)
          .setCommitOnClose(true);
      try (IndexWriter w = new IndexWriter(dir, iwc)) {
        for (int i = 0; i < entries.size(); i++) {
          ShardEntry e = entries.get(i);
          Document d = new Document();
          String title = e.title() == null ? "" : e.title();
          d.add(new TextField(CONTENTS, title.isEmpty() ? e.text() : title + "\n" + e.text(), Field.Store.NO));
          d.add(new StoredField(TEXT, e.text()));
          d.add(new StringField(CHUNK_ID, e.chunkId(), Field.Store.YES));
          d.add(new StringField(DOC_ID, e.docId(), Field.Store.YES));
          d.add(new NumericDocValuesField(LID, i));
          d.add(new StoredField(LID, i));
          d.add(new StoredField(START, e.startChar()));
          d.add(new StoredField(END, e.endChar()));
          w.addDocument(d);
        }
        w.forceMerge(1);
      }
    }
    // the lock file is a writer artifact, not part of the index
    java.nio.file.Files.deleteIfExists(shardDir.resolve(DIR).resolve(IndexWriter.WRITE_LOCK_NAME));
  }
}
