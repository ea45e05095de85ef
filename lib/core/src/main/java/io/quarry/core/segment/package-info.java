/**
 * Index segment formats and the index-version reader: per shard {@link io.quarry.core.segment.IvfListsFile} (IVF
 * lists of PQ codes + ids, memory-mapped, an {@link io.quarry.core.quant.ivf.InvertedLists}),
 * {@link io.quarry.core.segment.ChunkTableFile} (id → chunk id, doc id, offsets) and
 * {@link io.quarry.core.segment.RescoreVectorsFile} (float32 / sq8), in the checksummed envelope of
 * {@link io.quarry.core.segment.SegmentFiles}; the version's {@link io.quarry.core.segment.IndexManifest}; and
 * {@link io.quarry.core.segment.IndexVersion}, which opens and verifies a version. Byte-level spec:
 * {@code docs/segment-format.md}.
 */
package io.quarry.core.segment;
