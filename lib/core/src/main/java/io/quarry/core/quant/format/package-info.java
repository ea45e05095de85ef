/**
 * Bytes of the quantizer: {@link io.quarry.core.quant.format.QuantizerFormat} specifies, writes and reads {@code
 * quantizer.bin} (format 2); the format-1 body is read by a class of its own ({@code QuantizerFormatV1}), kept for
 * indexes published before format 2. {@link io.quarry.core.quant.format.VecsFormat} reads and writes the
 * fvecs/ivecs files of the ANN benchmarks (SIFT).
 */
package io.quarry.core.quant.format;
