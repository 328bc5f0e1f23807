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
 * Q4_K (block_q4_K, 144 bytes per 256 values): f16 d, f16 dmin, 12 bytes of packed 6-bit scales and mins for 8
 * sub-blocks of 32, 128 bytes qs. Sub-block pair p reads qs[32p..32p+32): low nibbles are sub-block 2p, high
 * nibbles 2p+1. Value = (d * sc) * q - dmin * m. The dot is sum over sub-blocks of (d * sc) * sum q*x minus
 * (dmin * m) * sum x, with the sums of x per 32 values precomputed ({@code xs}).
 */
final class Q4KKernels {
    private Q4KKernels() {}

    static final int BYTES = 144;

    static float dot(byte[] w, int off, float[] x, float[] xs, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        float offset = 0;
        for (int b = 0, blocks = n / 256; b < blocks; b++) {
            int at = off + b * BYTES;
            float d = half(w, at);
            float dmin = half(w, at + 2);
            int qs = at + 16;
            int xo = b * 256;
            int u0 = u32(w, at + 4), u1 = u32(w, at + 8), u2 = u32(w, at + 12);
            for (int p = 0; p < 4; p++) {
                int sm = scalePair(u0, u1, u2, p);
                FloatVector s0 = FloatVector.broadcast(F, d * (sm & 0xFF));
                FloatVector s1 = FloatVector.broadcast(F, d * ((sm >>> 8) & 0xFF));
                int lo = xo + 64 * p, hi = lo + 32;
                for (int g = 0; g < 32; g += 2 * L) {
                    IntVector q = (IntVector) ByteVector.fromArray(B1, w, qs + 32 * p + g).castShape(I, 0);
                    IntVector r = (IntVector) ByteVector.fromArray(B1, w, qs + 32 * p + g + L).castShape(I, 0);
                    a0 = ((FloatVector) q.and(0x0F).castShape(F, 0)).mul(s0).fma(FloatVector.fromArray(F, x, lo + g), a0);
                    a1 = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0x0F).castShape(F, 0)).mul(s1)
                            .fma(FloatVector.fromArray(F, x, hi + g), a1);
                    a2 = ((FloatVector) r.and(0x0F).castShape(F, 0)).mul(s0).fma(FloatVector.fromArray(F, x, lo + g + L), a2);
                    a3 = ((FloatVector) r.lanewise(VectorOperators.LSHR, 4).and(0x0F).castShape(F, 0)).mul(s1)
                            .fma(FloatVector.fromArray(F, x, hi + g + L), a3);
                }
                offset += dmin * ((sm >>> 16) & 0xFF) * xs[8 * b + 2 * p] + dmin * (sm >>> 24) * xs[8 * b + 2 * p + 1];
            }
        }
        FloatVector sum = a0.add(a1).add(a2.add(a3));
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
            int u0 = u32(w, at + 4), u1 = u32(w, at + 8), u2 = u32(w, at + 12);
            for (int p = 0; p < 4; p++) {
                int sm = scalePair(u0, u1, u2, p);
                float d1 = d * (sm & 0xFF), m1 = dmin * ((sm >>> 16) & 0xFF);
                float d2 = d * ((sm >>> 8) & 0xFF), m2 = dmin * (sm >>> 24);
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
     * ggml's get_scale_min_k4 for sub-blocks 2p and 2p+1 at once: their 6-bit scales in
     * bits 0-7 and 8-15, their 6-bit mins in bits 16-23 and 24-31. For p < 2 these are the low 6 bits of bytes 2p,
     * 2p+1 (scales) and 2p+4, 2p+5 (mins); for p >= 2 the low 4 bits come from bytes 2p+4, 2p+5 (scale: low nibble,
     * min: high nibble) and the top 2 from the spare top bits of bytes 2p-4, 2p-3 (scale) and 2p, 2p+1 (min).
     * Branch-free within a half (ggml's utmp unpacking, two values a lane), from the 12 bytes read once a block as
     * three little-endian ints u0, u1, u2.
     */
    static int scalePair(int u0, int u1, int u2, int p) {
        int sh = 16 * (p & 1);
        int scales, mins;
        if (p < 2) {
            scales = (u0 >>> sh) & 0x3F3F;
            mins = (u1 >>> sh) & 0x3F3F;
        } else {
            scales = ((u2 >>> sh) & 0x0F0F) | ((u0 >>> (sh + 6)) & 0x0303) << 4;
            mins = ((u2 >>> (sh + 4)) & 0x0F0F) | ((u1 >>> (sh + 6)) & 0x0303) << 4;
        }
        return scales | mins << 16;
    }
}
