/**
 * Numeric kernels of the quantizers, depending on nothing else in Quarry: the blocked nearest-centroid kernel {@code
 * ‖c‖² − 2x·c} ({@link io.quarry.core.quant.kernel.L2Kernel}, FAISS's {@code exhaustive_L2sqr_blas} form), fixed-order
 * dot products ({@link io.quarry.core.quant.kernel.VectorMath}), their Vector API versions ({@link
 * io.quarry.core.quant.kernel.VectorKernels}, used when {@link io.quarry.core.quant.kernel.Simd#ENABLED}; every lane
 * performs the scalar loop's operations in its order, so both give the same bits) and the matrix-product seam for a
 * BLAS {@code sgemm} ({@link io.quarry.core.quant.kernel.BlockProducts}).
 */
package io.quarry.core.quant.kernel;
