package io.quarry.lexical;

import io.quarry.core.search.ScoredChunk;
import io.quarry.core.segment.CorruptIndexFileException;
import java.io.Closeable;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.BoostQuery;
import org.apache.lucene.search.CollectionStatistics;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TermStatistics;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.Weight;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.MMapDirectory;

/**
 * Read side of one shard's lexical part ({@link Bm25ShardWriter}): BM25 search with a bag-of-words query (each
 * distinct analyzed term a SHOULD clause boosted by its count in the query, as Anserini's bag-of-words query) and
 * stored-field access by shard-local id. Thread-safe.
 *
 * <p>BM25's collection statistics (document frequencies, document count, average length) come from a {@link Stats}
 * shared by every shard of the version ({@link Bm25Index}), not from this shard alone: a chunk's score then does not
 * depend on which shard it was written to, so scores of different shards compare (the "distributed frequencies"
 * pass of sharded engines, e.g. Elasticsearch's {@code dfs_query_then_fetch}), and the same documents sharded
 * differently score the same. Opened alone, a shard uses its own statistics.
 */
public final class Bm25Shard implements Closeable {
  /** Largest number of distinct query terms used (Lucene's default clause limit is 1024). */
  public static final int MAX_TERMS = 1024;

  private final int shard;
  private final MMapDirectory dir;
  private final DirectoryReader reader;
  private final StatsSearcher searcher;
  private final Analyzer analyzer;
  private final int[] docOfLid;
  private final int[] lidOfDoc;
  /** Tombstones: Lucene query matching the chunks of deleted documents (null when none). */
  private final Query deleted;
  /** What the tombstoned chunks contribute to the collection statistics (empty when none). */
  private final TombstoneStats dead;

  /**
   * Opens {@code shardDir/bm25} and checks that its local ids are exactly {@code [0, expectedChunks)}.
   *
   * @throws CorruptIndexFileException naming the directory if Lucene reports corruption or the ids do not match
   */
  public Bm25Shard(Path shardDir, int shard, long expectedChunks, double k1, double b) throws IOException {
    this(shardDir, shard, expectedChunks, k1, b, List.of());
  }

  /**
   * Opens {@code shardDir/bm25} with tombstones: {@link #search} never returns a chunk of a document in
   * {@code deletedDocs} (excluded by a {@code MUST_NOT} clause on {@code doc_id}), and the deleted chunks do not count
   * in the collection statistics either: their postings are subtracted ({@link TombstoneStats}, one pass over this shard's
   * postings at open, only when there are tombstones), so every live chunk scores exactly as in a version built from
   * the live documents alone.
   *
   * @param deletedDocs doc ids tombstoned in this shard (the manifest's {@code deletedDocs})
   */
  public Bm25Shard(Path shardDir, int shard, long expectedChunks, double k1, double b, List<String> deletedDocs)
      throws IOException {
    this.shard = shard;
    this.deleted = deletedDocs.isEmpty() ? null : new org.apache.lucene.search.TermInSetQuery(
        Bm25ShardWriter.DOC_ID, deletedDocs.stream().map(org.apache.lucene.util.BytesRef::new).toList());
    Path p = shardDir.resolve(Bm25ShardWriter.DIR);
    if (!Files.isDirectory(p)) {
      throw new CorruptIndexFileException(p.toString(), "BM25 index directory missing");
    }
    this.dir = new MMapDirectory(p);
    try {
      this.reader = DirectoryReader.open(dir);
    } catch (CorruptIndexException e) {
      dir.close();
      throw new CorruptIndexFileException(p.toString(), "Lucene: " + e.getMessage());
    }
    this.searcher = new StatsSearcher(reader);
    searcher.setSimilarity(new BM25Similarity((float) k1, (float) b));
    this.analyzer = Bm25ShardWriter.analyzer();
    int maxDoc = reader.maxDoc();
    if (maxDoc != expectedChunks || reader.numDocs() != maxDoc) {
      close();
      throw new CorruptIndexFileException(p.toString(), maxDoc + " Lucene docs, manifest says " + expectedChunks);
    }
    docOfLid = new int[maxDoc];
    lidOfDoc = new int[maxDoc];
    java.util.Arrays.fill(docOfLid, -1);
    for (LeafReaderContext leaf : reader.leaves()) {
      NumericDocValues dv = leaf.reader().getNumericDocValues(Bm25ShardWriter.LID);
      for (int d = 0; d < leaf.reader().maxDoc(); d++) {
        if (dv == null || !dv.advanceExact(d) || dv.longValue() < 0 || dv.longValue() >= maxDoc
            || docOfLid[(int) dv.longValue()] != -1) {
          close();
          throw new CorruptIndexFileException(p.toString(),
              "bad or duplicate local id at Lucene doc " + (leaf.docBase + d));
        }
        int lid = (int) dv.longValue();
        docOfLid[lid] = leaf.docBase + d;
        lidOfDoc[leaf.docBase + d] = lid;
      }
    }
    this.dead = deleted == null ? TombstoneStats.NONE : TombstoneStats.of(searcher, deleted);
    searcher.stats = new Stats(List.of(this));
  }

  /**
   * Collection statistics summed over a set of shards (every shard of an index version), tombstoned chunks
   * subtracted: what BM25's IDF and average document length are computed from.
   */
  public static final class Stats {
    private final List<Bm25Shard> shards;
    private final Map<String, CollectionStatistics> collection = new java.util.concurrent.ConcurrentHashMap<>();
    /** Terms' statistics already computed (cleared when it reaches {@link #TERM_CACHE_MAX} entries). */
    private final Map<Term, java.util.Optional<TermStatistics>> termCache = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int TERM_CACHE_MAX = 1 << 16;

    Stats(List<Bm25Shard> shards) {
      this.shards = List.copyOf(shards);
    }

    /**
     * The term's live document frequency and total frequency over all shards; null if no shard has it. A term only
     * tombstoned chunks contain gets document frequency 1 (those chunks are never matched, so it scores nothing).
     */
    TermStatistics term(Term term) throws IOException {
      // every shard's weight (and the restricted scoring of hybrid candidates) asks for the same terms of a query:
      // computed once, then served from a cache (the index is immutable, so entries never go stale; bounded)
      java.util.Optional<TermStatistics> cached = termCache.get(term);
      if (cached != null) {
        return cached.orElse(null);
      }
      TermStatistics stats = compute(term);
      if (termCache.size() >= TERM_CACHE_MAX) {
        termCache.clear();
      }
      termCache.put(new Term(term.field(), org.apache.lucene.util.BytesRef.deepCopyOf(term.bytes())),
          java.util.Optional.ofNullable(stats));
      return stats;
    }

    private TermStatistics compute(Term term) throws IOException {
      long df = 0;
      long ttf = 0;
      boolean any = false;
      for (Bm25Shard s : shards) {
        int rdf = s.reader.docFreq(term);
        any |= rdf > 0;
        df += rdf - s.dead.df(term);
        ttf += s.reader.totalTermFreq(term) - s.dead.ttf(term);
      }
      if (!any) {
        return null;
      }
      df = Math.max(1, df);
      return new TermStatistics(term.bytes(), df, Math.max(df, ttf));
    }

    /** The field's statistics over all shards, tombstoned chunks subtracted (as {@link IndexSearcher#collectionStatistics} for one); null if none. */
    CollectionStatistics collection(String field) {
      return collection.computeIfAbsent(field, f -> {
        long maxDoc = 0;
        long docCount = 0;
        long sumTtf = 0;
        long sumDf = 0;
        try {
          for (Bm25Shard s : shards) {
            CollectionStatistics c = new IndexSearcher(s.reader).collectionStatistics(f);
            if (c != null) {
              boolean contents = Bm25ShardWriter.CONTENTS.equals(f);
              maxDoc += c.maxDoc() - (contents ? s.dead.docCount : 0);
              docCount += c.docCount() - (contents ? s.dead.docCount : 0);
              sumTtf += c.sumTotalTermFreq() - (contents ? s.dead.sumTtf : 0);
              sumDf += c.sumDocFreq() - (contents ? s.dead.sumDf : 0);
            }
          }
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        return docCount <= 0 ? null
            : new CollectionStatistics(f, maxDoc, docCount, Math.max(sumTtf, sumDf), Math.max(sumDf, docCount));
      });
    }
  }

  /** An {@link IndexSearcher} whose BM25 statistics come from a {@link Stats} (its own shard's, or the version's). */
  private static final class StatsSearcher extends IndexSearcher {
    private volatile Stats stats;

    StatsSearcher(IndexReader reader) {
      super(reader);
    }

    @Override
    public TermStatistics termStatistics(Term term, int docFreq, long totalTermFreq) throws IOException {
      Stats s = stats;
      return s == null ? super.termStatistics(term, docFreq, totalTermFreq) : s.term(term);
    }

    @Override
    public CollectionStatistics collectionStatistics(String field) throws IOException {
      Stats s = stats;
      try {
        return s == null ? super.collectionStatistics(field) : s.collection(field);
      } catch (java.io.UncheckedIOException e) {
        throw e.getCause();
      }
    }
  }

  /** Scores with {@code stats} (the statistics of all shards of the version) from now on. */
  void useStats(Stats stats) {
    searcher.stats = stats;
  }

  /** Analyzed query terms with their counts, first-occurrence order, at most {@link #MAX_TERMS} distinct. */
  Map<String, Integer> terms(String query) throws IOException {
    Map<String, Integer> terms = new LinkedHashMap<>();
    try (TokenStream ts = analyzer.tokenStream(Bm25ShardWriter.CONTENTS, new StringReader(query))) {
      CharTermAttribute att = ts.addAttribute(CharTermAttribute.class);
      ts.reset();
      while (ts.incrementToken()) {
        String t = att.toString();
        if (terms.size() < MAX_TERMS || terms.containsKey(t)) {
          terms.merge(t, 1, Integer::sum);
        }
      }
      ts.end();
    }
    return terms;
  }

  /** The Lucene query for a free-text query (null if no term survives analysis). */
  Query query(String text) throws IOException {
    Map<String, Integer> terms = terms(text);
    if (terms.isEmpty()) {
      return null;
    }
    BooleanQuery.Builder bq = new BooleanQuery.Builder();
    for (Map.Entry<String, Integer> t : terms.entrySet()) {
      Query q = new TermQuery(new Term(Bm25ShardWriter.CONTENTS, t.getKey()));
      bq.add(t.getValue() == 1 ? q : new BoostQuery(q, t.getValue()), BooleanClause.Occur.SHOULD);
    }
    return bq.build();
  }

  /** Top-{@code n} chunks of this shard for {@code text}, BM25 score descending. */
  public List<ScoredChunk> search(String text, int n) throws IOException {
    Query q = query(text);
    List<ScoredChunk> out = new ArrayList<>();
    if (q == null || n <= 0) {
      return out;
    }
    if (deleted != null) {
      q = new BooleanQuery.Builder().add(q, BooleanClause.Occur.MUST).add(deleted, BooleanClause.Occur.MUST_NOT)
          .build();
    }
    TopDocs top = searcher.search(q, n);
    for (ScoreDoc sd : top.scoreDocs) {
      out.add(new ScoredChunk(shard, lidOfDoc[sd.doc], sd.score));
    }
    return out;
  }

  /**
   * BM25 scores of given chunks of this shard for {@code text}, whether or not they are in its top-n: each chunk is
   * scored by the same Lucene {@link Weight} a search uses (a chunk matching no query term scores 0).
   *
   * @param ids shard-local ids, any order
   * @return one score per id, in the order of {@code ids}
   * @throws IOException on an index read error
   */
  public float[] score(String text, int[] ids) throws IOException {
    float[] out = new float[ids.length];
    Query q = query(text);
    if (q == null || ids.length == 0) {
      return out;
    }
    Weight w = searcher.createWeight(searcher.rewrite(q), ScoreMode.COMPLETE, 1f);
    Integer[] order = new Integer[ids.length];
    for (int i = 0; i < ids.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, java.util.Comparator.comparingInt(i -> docOfLid[ids[i]]));
    List<LeafReaderContext> leaves = reader.leaves();
    int leafIdx = -1;
    Scorer scorer = null;
    for (int i : order) {
      int doc = docOfLid[ids[i]];
      int li = ReaderUtil.subIndex(doc, leaves);
      if (li != leafIdx) {
        leafIdx = li;
        scorer = w.scorer(leaves.get(li));
      }
      if (scorer == null) {
        continue;
      }
      int target = doc - leaves.get(li).docBase;
      DocIdSetIterator it = scorer.iterator();
      int cur = it.docID();
      if (cur < target) {
        cur = it.advance(target);
      }
      if (cur == target) {
        out[i] = scorer.score();
      }
    }
    return out;
  }

  /** Stored chunk text of shard-local id {@code id}. */
  public String text(int id) throws IOException {
    return reader.storedFields().document(docOfLid[id]).get(Bm25ShardWriter.TEXT);
  }

  @Override
  public void close() throws IOException {
    try {
      if (reader != null) {
        reader.close();
      }
    } finally {
      dir.close();
    }
  }
}
