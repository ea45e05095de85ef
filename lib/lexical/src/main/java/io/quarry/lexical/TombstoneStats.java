package io.quarry.lexical;

import java.io.IOException;
import java.util.Map;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.Weight;

/**
 * The tombstoned chunks' share of a {@link Bm25Shard}'s {@link Bm25ShardWriter#CONTENTS} field statistics: per
 * term, the number of tombstoned chunks containing it and its total frequency in them; in all, their count and total
 * length. {@link Bm25Shard.Stats} subtracts it.
 */
final class TombstoneStats {
  static final TombstoneStats NONE = new TombstoneStats(Map.of(), 0, 0, 0);

  final Map<org.apache.lucene.util.BytesRef, long[]> termDfTtf;
  final long docCount;
  final long sumTtf;
  final long sumDf;

  private TombstoneStats(Map<org.apache.lucene.util.BytesRef, long[]> termDfTtf, long docCount, long sumTtf, long sumDf) {
    this.termDfTtf = termDfTtf;
    this.docCount = docCount;
    this.sumTtf = sumTtf;
    this.sumDf = sumDf;
  }

  /** One pass over every posting of the field, counting those of the chunks {@code deleted} matches. */
  static TombstoneStats of(IndexSearcher searcher, Query deleted) throws IOException {
    IndexReader reader = searcher.getIndexReader();
    org.apache.lucene.util.FixedBitSet isDead = new org.apache.lucene.util.FixedBitSet(Math.max(1, reader.maxDoc()));
    Weight w = searcher.createWeight(searcher.rewrite(deleted), ScoreMode.COMPLETE_NO_SCORES, 1f);
    for (LeafReaderContext leaf : reader.leaves()) {
      Scorer sc = w.scorer(leaf);
      if (sc != null) {
        DocIdSetIterator it = sc.iterator();
        for (int d = it.nextDoc(); d != DocIdSetIterator.NO_MORE_DOCS; d = it.nextDoc()) {
          isDead.set(leaf.docBase + d);
        }
      }
    }
    Map<org.apache.lucene.util.BytesRef, long[]> perTerm = new java.util.HashMap<>();
    org.apache.lucene.util.FixedBitSet hasField = new org.apache.lucene.util.FixedBitSet(Math.max(1, reader.maxDoc()));
    long sumTtf = 0;
    long sumDf = 0;
    for (LeafReaderContext leaf : reader.leaves()) {
      org.apache.lucene.index.Terms terms = leaf.reader().terms(Bm25ShardWriter.CONTENTS);
      if (terms == null) {
        continue;
      }
      org.apache.lucene.index.TermsEnum te = terms.iterator();
      org.apache.lucene.index.PostingsEnum pe = null;
      for (org.apache.lucene.util.BytesRef t = te.next(); t != null; t = te.next()) {
        pe = te.postings(pe, org.apache.lucene.index.PostingsEnum.FREQS);
        long df = 0;
        long ttf = 0;
        for (int d = pe.nextDoc(); d != DocIdSetIterator.NO_MORE_DOCS; d = pe.nextDoc()) {
          if (isDead.get(leaf.docBase + d)) {
            df++;
            ttf += pe.freq();
            hasField.set(leaf.docBase + d);
          }
        }
        if (df > 0) {
          long[] v = perTerm.computeIfAbsent(org.apache.lucene.util.BytesRef.deepCopyOf(t), x -> new long[2]);
          v[0] += df;
          v[1] += ttf;
          sumDf += df;
          sumTtf += ttf;
        }
      }
    }
    return new TombstoneStats(perTerm, hasField.cardinality(), sumTtf, sumDf);
  }

  long df(Term term) {
    long[] v = Bm25ShardWriter.CONTENTS.equals(term.field()) ? termDfTtf.get(term.bytes()) : null;
    return v == null ? 0 : v[0];
  }

  long ttf(Term term) {
    long[] v = Bm25ShardWriter.CONTENTS.equals(term.field()) ? termDfTtf.get(term.bytes()) : null;
    return v == null ? 0 : v[1];
  }
}
