/**
 * Inverted lists and their search: the lists ({@link io.quarry.core.quant.ivf.InvertedLists}, in memory {@link
 * io.quarry.core.quant.ivf.ArrayInvertedLists}; the memory-mapped segment file is {@code
 * io.quarry.core.segment.IvfListsFile}), asymmetric-distance (ADC) search over the probed lists ({@link
 * io.quarry.core.quant.ivf.IvfPqSearcher}, Jégou et al., TPAMI 2011), the float-table scan ({@link
 * io.quarry.core.quant.ivf.AdcScan}) and the quantized-table bound + exact re-scoring scan for 8-bit PQ ({@link
 * io.quarry.core.quant.ivf.LutScan}, after FAISS fast-scan, André et al., VLDB 2015) over codes in 64-code blocks
 * ({@link io.quarry.core.quant.ivf.BlockedCodes}), and the top-k heap ({@link io.quarry.core.quant.ivf.TopK}).
 */
package io.quarry.core.quant.ivf;
