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
 * Q4_K (block_q4_K, 144 bytes per 256 values): f16 d, f16 dmin, 12 bytes of packed 6-bit scales and mins for 8
 * sub-blocks of 32, 128 bytes qs. Sub-block pair p reads qs[32p..32p+32): low nibbles are sub-block 2p, high
 * nibbles 2p+1. Value = (d * sc) * q - dmin * m. The dot is sum over sub-blocks of (d * sc) * sum q*x minus
 * (dmin * m) * sum x, with the sums of x per 32 values precomputed ({@code xs}).
 */
final class Q4KKernels {
    private Q4KKernels() {}

    static final int BYTES = 144;

    static float dot(byte[] w, int off, float[] x, float[] xs, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        float offset = 0;
        for (int b = 0, blocks = n / 256; b < blocks; b++) {
            int at = off + b * BYTES;
            float d = half(w, at);
            float dmin = half(w, at + 2);
            int qs = at + 16;
            int xo = b * 256;
            for (int p = 0; p < 4; p++) {
                int sm1 = scaleMin(w, at + 4, 2 * p);
                int sm2 = scaleMin(w, at + 4, 2 * p + 1);
                FloatVector lo = FloatVector.zero(F);
                FloatVector hi = FloatVector.zero(F);
                for (int g = 0; g < 32; g += L) {
                    IntVector q = (IntVector) ByteVector.fromArray(B1, w, qs + 32 * p + g).castShape(I, 0);
                    FloatVector q0 = (FloatVector) q.and(0x0F).castShape(F, 0);
                    FloatVector q1 = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0x0F).castShape(F, 0);
                    lo = q0.fma(FloatVector.fromArray(F, x, xo + 64 * p + g), lo);
                    hi = q1.fma(FloatVector.fromArray(F, x, xo + 64 * p + 32 + g), hi);
                }
                a0 = lo.fma(FloatVector.broadcast(F, d * (sm1 & 0xFF)), a0);
                a1 = hi.fma(FloatVector.broadcast(F, d * (sm2 & 0xFF)), a1);
                offset += dmin * (sm1 >>> 8) * xs[8 * b + 2 * p] + dmin * (sm2 >>> 8) * xs[8 * b + 2 * p + 1];
            }
        }
        FloatVector sum = a0.add(a1);
        if (L == 16) {
            sum = sum.add(sum.rearrange(R8));
        }
        sum = sum.add(sum.rearrange(R4));
        sum = sum.add(sum.rearrange(R2));
        sum = sum.add(sum.rearrange(R1));
        return sum.lane(0) - offset;
    }

    static void decode(byte[] w, int off, float[] dst, int n) {
        for (int b = 0, blocks = n / 256; b < blocks; b++) {
            int at = off + b * BYTES;
            float d = half(w, at);
            float dmin = half(w, at + 2);
            int qs = at + 16;
            for (int p = 0; p < 4; p++) {
                int sm1 = scaleMin(w, at + 4, 2 * p);
                int sm2 = scaleMin(w, at + 4, 2 * p + 1);
                float d1 = d * (sm1 & 0xFF), m1 = dmin * (sm1 >>> 8);
                float d2 = d * (sm2 & 0xFF), m2 = dmin * (sm2 >>> 8);
                int y = b * 256 + 64 * p;
                for (int g = 0; g < 32; g += L) {
                    IntVector q = (IntVector) ByteVector.fromArray(B1, w, qs + 32 * p + g).castShape(I, 0);
                    ((FloatVector) q.and(0x0F).castShape(F, 0)).mul(d1).sub(m1).intoArray(dst, y + g);
                    ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0x0F).castShape(F, 0))
                            .mul(d2).sub(m2).intoArray(dst, y + 32 + g);
                }
            }
        }
    }

    /**
     * ggml's get_scale_min_k4 on the 12 bytes at w[at]: sub-block j's 6-bit scale in bits 0-7 of the result and its
     * 6-bit min in bits 8-15. For j < 4 both are the low 6 bits of bytes j and j+4; for j >= 4 the low 4 bits come
     * from byte j+4 (scale: low nibble, min: high nibble) and the top 2 from the spare top bits of bytes j-4 and j.
     */
    static int scaleMin(byte[] w, int at, int j) {
        if (j < 4) {
            return (w[at + j] & 63) | (w[at + j + 4] & 63) << 8;
        }
        int scale = (w[at + j + 4] & 0x0F) | ((w[at + j - 4] & 0xFF) >>> 6) << 4;
        int min = ((w[at + j + 4] & 0xFF) >>> 4) | ((w[at + j] & 0xFF) >>> 6) << 4;
        return scale | min << 8;
    }
}
