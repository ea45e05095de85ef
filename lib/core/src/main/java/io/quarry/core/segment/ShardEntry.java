package io.quarry.core.segment;

/**
 * One chunk as the segment writers take it. Entries of a shard are written in the order given, which makes the
 * order the shard-local ids: callers sort by {@code chunkId} for deterministic output.
 *
 * @param chunkId chunk id (unique in the collection)
 * @param docId id of the source document
 * @param ordinal position of the chunk in its document (0-based)
 * @param startChar start offset in the document text (UTF-16 code units, inclusive)
 * @param endChar end offset (exclusive)
 * @param title document title (may be empty), indexed for BM25
 * @param text chunk text, indexed for BM25 and stored
 * @param list IVF list the vector was assigned to
 * @param code PQ code, {@code codeSize} bytes
 * @param vector the embedding ({@code dim} floats) for exact re-scoring
 */
public record ShardEntry(
    String chunkId,
    String docId,
    int ordinal,
    int startChar,
    int endChar,
    String title,
    String text,
    int list,
    byte[] code,
    float[] vector)
    implements java.io.Serializable {}
