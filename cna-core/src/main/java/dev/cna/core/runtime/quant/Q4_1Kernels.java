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
 * Q4_1 (block_q4_1, 20 bytes per 32 values): f16 d, f16 m, 16 bytes qs as Q4_0. Value = d * q + m. The dot is
 * d * sum q*x + m * sum x, with the block sums of x precomputed ({@code xs}, per 32 values).
 */
final class Q4_1Kernels {
    private Q4_1Kernels() {}

    static final int BYTES = 20;

    static float dot(byte[] w, int off, float[] x, float[] xs, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        float offset = 0;
        for (int b = 0, blocks = n / 32; b < blocks; b++) {
            int at = off + b * BYTES;
            int xo = b * 32;
            FloatVector s = FloatVector.zero(F);
            for (int g = 0; g < 16; g += L) {
                IntVector q = (IntVector) ByteVector.fromArray(B1, w, at + 4 + g).castShape(I, 0);
                FloatVector lo = (FloatVector) q.and(0x0F).castShape(F, 0);
                FloatVector hi = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0x0F).castShape(F, 0);
                s = lo.fma(FloatVector.fromArray(F, x, xo + g), s);
                s = hi.fma(FloatVector.fromArray(F, x, xo + 16 + g), s);
            }
            FloatVector t = s.fma(FloatVector.broadcast(F, half(w, at)), a0);
            a0 = a1;
            a1 = a2;
            a2 = a3;
            a3 = t;
            offset += half(w, at + 2) * xs[b];
        }
        FloatVector sum = a0.add(a1).add(a2.add(a3));
        if (L == 16) {
            sum = sum.add(sum.rearrange(R8));
        }
        sum = sum.add(sum.rearrange(R4));
        sum = sum.add(sum.rearrange(R2));
        sum = sum.add(sum.rearrange(R1));
        return sum.lane(0) + offset;
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
