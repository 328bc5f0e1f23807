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
import static dev.cna.core.runtime.quant.Simd.u32;

/**
 * Q5_K (block_q5_K, 176 bytes per 256 values): f16 d, f16 dmin, 12 bytes of scales and mins (as Q4_K), 32 bytes
 * qh, 128 bytes qs. Sub-block pair p: low nibbles of qs[32p + l] plus bit 2p of qh[l] (as 16) are sub-block 2p,
 * high nibbles plus bit 2p+1 are sub-block 2p+1 (qh shifted left by 4, then right by the bit number, puts that
 * bit on bit 4). Value = (d * sc) * q - dmin * m; the dot as Q4_K.
 */
final class Q5KKernels {
    private Q5KKernels() {}

    static final int BYTES = 176;

    static float dot(byte[] w, int off, float[] x, float[] xs, int n) {
        FloatVector acc = FloatVector.zero(F);
        float offset = 0;
        for (int b = 0, blocks = n / 256; b < blocks; b++) {
            int at = off + b * BYTES;
            float d = half(w, at);
            float dmin = half(w, at + 2);
            int qh = at + 16;
            int qs = at + 48;
            int xo = b * 256;
            int u0 = u32(w, at + 4), u1 = u32(w, at + 8), u2 = u32(w, at + 12);
            for (int p = 0; p < 4; p++) {
                int sm = Q4KKernels.scalePair(u0, u1, u2, p);
                FloatVector lo = FloatVector.zero(F);
                FloatVector hi = FloatVector.zero(F);
                for (int g = 0; g < 32; g += L) {
                    IntVector q = (IntVector) ByteVector.fromArray(B1, w, qs + 32 * p + g).castShape(I, 0);
                    IntVector h = ((IntVector) ByteVector.fromArray(B1, w, qh + g).castShape(I, 0)).lanewise(VectorOperators.LSHL, 4);
                    FloatVector q0 = (FloatVector) q.and(0x0F).or(h.lanewise(VectorOperators.LSHR, 2 * p).and(0x10))
                            .castShape(F, 0);
                    FloatVector q1 = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0x0F)
                            .or(h.lanewise(VectorOperators.LSHR, 2 * p + 1).and(0x10)).castShape(F, 0);
                    lo = q0.fma(FloatVector.fromArray(F, x, xo + 64 * p + g), lo);
                    hi = q1.fma(FloatVector.fromArray(F, x, xo + 64 * p + 32 + g), hi);
                }
                acc = lo.fma(FloatVector.broadcast(F, d * (sm & 0xFF)), acc);
                acc = hi.fma(FloatVector.broadcast(F, d * ((sm >>> 8) & 0xFF)), acc);
                offset += dmin * ((sm >>> 16) & 0xFF) * xs[8 * b + 2 * p] + dmin * (sm >>> 24) * xs[8 * b + 2 * p + 1];
            }
        }
        FloatVector sum = acc;
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
            int qh = at + 16;
            int qs = at + 48;
            int u0 = u32(w, at + 4), u1 = u32(w, at + 8), u2 = u32(w, at + 12);
            for (int p = 0; p < 4; p++) {
                int sm = Q4KKernels.scalePair(u0, u1, u2, p);
                float d1 = d * (sm & 0xFF), m1 = dmin * ((sm >>> 16) & 0xFF);
                float d2 = d * ((sm >>> 8) & 0xFF), m2 = dmin * (sm >>> 24);
                int y = b * 256 + 64 * p;
                for (int g = 0; g < 32; g += L) {
                    IntVector q = (IntVector) ByteVector.fromArray(B1, w, qs + 32 * p + g).castShape(I, 0);
                    IntVector h = ((IntVector) ByteVector.fromArray(B1, w, qh + g).castShape(I, 0)).lanewise(VectorOperators.LSHL, 4);
                    ((FloatVector) q.and(0x0F).or(h.lanewise(VectorOperators.LSHR, 2 * p).and(0x10))
                            .castShape(F, 0)).mul(d1).sub(m1).intoArray(dst, y + g);
                    ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0x0F)
                            .or(h.lanewise(VectorOperators.LSHR, 2 * p + 1).and(0x10)).castShape(F, 0))
                            .mul(d2).sub(m2).intoArray(dst, y + 32 + g);
                }
            }
        }
    }
}
