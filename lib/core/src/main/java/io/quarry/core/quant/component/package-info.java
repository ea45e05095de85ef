/**
 * The three parts of a quantizer, in FAISS's chain: the OPQ rotation or identity ({@link
 * io.quarry.core.quant.component.VectorTransform}), the IVF coarse quantizer ({@link
 * io.quarry.core.quant.component.CoarseQuantizer}) and the product quantizer of the residuals ({@link
 * io.quarry.core.quant.component.ProductQuantizer}). Each is immutable, serializable and owns its math; their bytes
 * are written by {@code io.quarry.core.quant.format.QuantizerFormat}.
 */
package io.quarry.core.quant.component;
