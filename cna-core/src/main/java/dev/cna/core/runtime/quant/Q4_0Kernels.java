package dev.cna.core.runtime.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import static dev.cna.core.runtime.quant.Simd.B1;
import static dev.cna.core.runtime.quant.Simd.F;
import static dev.cna.core.runtime.quant.Simd.I;
import static dev.cna.core.runtime.quant.Simd.L;
import static dev.cna.core.runtime.quant.Simd.R1;
import static dev.cna.core.runtime.quant.Simd.R2;
import static dev.cna.core.runtime.quant.Simd.R4;
import static dev.cna.core.runtime.quant.Simd.R8;
import static dev.cna.core.runtime.quant.Simd.half;

/**
 * Q4_0 (block_q4_0, 18 bytes per 32 values): f16 d, 16 bytes qs; value j in the low nibble of qs[j], value j+16
 * in the high nibble. Value = d * (q - 8). The dot computes d * (sum q*x - 8 * sum x) with the block sums of x
 * precomputed once per activation vector ({@code xs}, per 32 values).
 */
final class Q4_0Kernels {
    private Q4_0Kernels() {}

    static final int BYTES = 18;

    static float dot(byte[] w, int off, float[] x, float[] xs, int n) {
        FloatVector acc = FloatVector.zero(F);
        float offset = 0;
        for (int b = 0, blocks = n / 32; b < blocks; b++) {
            int at = off + b * BYTES;
            int xo = b * 32;
            FloatVector s = FloatVector.zero(F);
            for (int g = 0; g < 16; g += L) {
                IntVector q = (IntVector) ByteVector.fromArray(B1, w, at + 2 + g).castShape(I, 0);
                FloatVector lo = (FloatVector) q.and(0x0F).castShape(F, 0);
                FloatVector hi = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0x0F).castShape(F, 0);
                s = lo.fma(FloatVector.fromArray(F, x, xo + g), s);
                s = hi.fma(FloatVector.fromArray(F, x, xo + 16 + g), s);
            }
            float d = half(w, at);
            acc = s.fma(FloatVector.broadcast(F, d), acc);
            offset += d * xs[b];
        }
        FloatVector sum = acc;
        if (L == 16) {
            sum = sum.add(sum.rearrange(R8));
        }
        sum = sum.add(sum.rearrange(R4));
        sum = sum.add(sum.rearrange(R2));
        sum = sum.add(sum.rearrange(R1));
        return sum.lane(0) - 8 * offset;
    }

    static void decode(byte[] w, int off, float[] dst, int n) {
        for (int b = 0, blocks = n / 32; b < blocks; b++) {
            int at = off + b * BYTES;
            float d = half(w, at);
            for (int g = 0; g < 16; g += L) {
                IntVector q = (IntVector) ByteVector.fromArray(B1, w, at + 2 + g).castShape(I, 0);
                ((FloatVector) q.and(0x0F).sub(8).castShape(F, 0)).mul(d).intoArray(dst, b * 32 + g);
                ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0x0F).sub(8).castShape(F, 0))
                        .mul(d).intoArray(dst, b * 32 + 16 + g);
            }
        }
    }
}
