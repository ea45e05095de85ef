package io.quarry.jobs.chunk;

import io.quarry.core.ingest.Document;
import io.quarry.core.ingest.ParseResult;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The in-flight (not persisted) row of the ingest step: a document or a quarantined record, with its position in
 * the input ({@code file} path, 1-based {@code line} or 0-based Parquet row) so that "first occurrence wins" is
 * well defined for duplicate ids.
 */
final class IngestRows {
  private IngestRows() {}

  static final StructType SCHEMA = new StructType()
      .add("ok", DataTypes.BooleanType, false)
      .add("doc_id", DataTypes.StringType, true)
      .add("title", DataTypes.StringType, true)
      .add("text", DataTypes.StringType, true)
      .add("source", DataTypes.StringType, false)
      .add("file", DataTypes.StringType, false)
      .add("line", DataTypes.LongType, false)
      .add("reason", DataTypes.StringType, true)
      .add("detail", DataTypes.StringType, true)
      .add("raw", DataTypes.StringType, true);

  static Row of(ParseResult r, String file, long line) {
    return of(r, file, line, null);
  }

  /**
   * @param raw for a document: its raw record excerpt (kept for the quarantine record of a later duplicate of its
   *     id), or null; ignored for a quarantined record, which carries its own
   */
  static Row of(ParseResult r, String file, long line, String raw) {
    if (r instanceof Document d) {
      return RowFactory.create(true, d.id(), d.title(), d.text(), d.source(), file, line, null, null, raw);
    }
    ParseResult.Quarantined q = (ParseResult.Quarantined) r;
    return RowFactory.create(false, q.docId(), null, null, q.source(), file, line, q.reason().code(),
        q.detail(), q.raw());
  }
}
