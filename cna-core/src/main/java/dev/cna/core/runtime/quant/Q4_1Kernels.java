package dev.cna.core.runtime.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import static dev.cna.core.runtime.quant.Simd.B1;
import static dev.cna.core.runtime.quant.Simd.F;
import static dev.cna.core.runtime.quant.Simd.I;
import static dev.cna.core.runtime.quant.Simd.L;
import static dev.cna.core.runtime.quant.Simd.half;

/**
 * Q4_1 (block_q4_1, 20 bytes per 32 values): f16 d, f16 m, 16 bytes qs as Q4_0. Value = d * q + m. The dot is
 * d * sum q*x + m * sum x, with the block sums of x precomputed ({@code xs}, per 32 values).
 */
final class Q4_1Kernels {
    private Q4_1Kernels() {}

    static final int BYTES = 20;

    /** out[r0 + i] = dot(row i, x) for i < n, row i at w[off + i * rowBytes]: Q4_0's kernel with the min term. */
    static void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0) {
        Q4_0Kernels.dotRows(w, off, rowBytes, n, x, xs, out, r0, BYTES, true);
    }

    static void decode(byte[] w, int off, float[] dst, int n) {
        for (int b = 0, blocks = n / 32; b < blocks; b++) {
            int at = off + b * BYTES;
            float d = half(w, at);
            float m = half(w, at + 2);
            for (int g = 0; g < 16; g += L) {
                IntVector q = (IntVector) ByteVector.fromArray(B1, w, at + 4 + g).castShape(I, 0);
                ((FloatVector) q.and(0x0F).castShape(F, 0)).mul(d).add(m).intoArray(dst, b * 32 + g);
                ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0x0F).castShape(F, 0))
                        .mul(d).add(m).intoArray(dst, b * 32 + 16 + g);
            }
        }
    }
}
