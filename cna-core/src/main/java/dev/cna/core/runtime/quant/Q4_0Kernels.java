package dev.cna.core.runtime.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import static dev.cna.core.runtime.quant.Simd.B1;
import static dev.cna.core.runtime.quant.Simd.F;
import static dev.cna.core.runtime.quant.Simd.I;
import static dev.cna.core.runtime.quant.Simd.K1;
import static dev.cna.core.runtime.quant.Simd.L;
import static dev.cna.core.runtime.quant.Simd.P1;
import static dev.cna.core.runtime.quant.Simd.P2;
import static dev.cna.core.runtime.quant.Simd.P3;
import static dev.cna.core.runtime.quant.Simd.P4;
import static dev.cna.core.runtime.quant.Simd.half;

/**
 * Q4_0 (block_q4_0, 18 bytes per 32 values): f16 d, 16 bytes qs; value j in the low nibble of qs[j], value j+16
 * in the high nibble. Value = d * (q - 8). The dot computes d * sum q*x - 8d * sum x with the block sums of x
 * precomputed once per activation vector ({@code xs}, per 32 values).
 */
final class Q4_0Kernels {
    private Q4_0Kernels() {}

    static final int BYTES = 18;

    /** out[r0 + i] = dot(row i, x) for i < n, row i at w[off + i * rowBytes], x of a row's length. */
    static void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0) {
        dotRows(w, off, rowBytes, n, x, xs, out, r0, BYTES, false);
    }

    /**
     * The two-row nibble kernel of Q4_0 and Q4_1 (block bytes {@code bytes}; Q4_1 has an f16 min m after d, its qs
     * start 2 bytes later): sum over blocks of d * sum q*x plus the block's offset times sum x, which is -8d for
     * Q4_0 (exactly d * (q - 8) summed) and m for Q4_1. Two rows at a time, each load of x feeding both (1.45x one
     * row at a time on Q4_1; four rows were slower); an odd last row is paired with itself.
     */
    static void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0,
                        int bytes, boolean min) {
        int qs = min ? 4 : 2;
        for (int i = 0; i < n; i += 2) {
            int o0 = off + i * rowBytes;
            int o1 = i + 1 < n ? o0 + rowBytes : o0;
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            float offset0 = 0, offset1 = 0;
            for (int b = 0, blocks = x.length / 32; b < blocks; b++) {
                int at0 = o0 + b * bytes, at1 = o1 + b * bytes;
                int xo = b * 32;
                FloatVector s0 = FloatVector.zero(F), s1 = s0;
                for (int g = 0; g < 16; g += L) {
                    FloatVector x0 = FloatVector.fromArray(F, x, xo + g);
                    FloatVector x1 = FloatVector.fromArray(F, x, xo + 16 + g);
                    IntVector q = (IntVector) ByteVector.fromArray(B1, w, at0 + qs + g).castShape(I, 0);
                    s0 = ((FloatVector) q.and(0x0F).castShape(F, 0)).fma(x0, s0);
                    s0 = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0x0F).castShape(F, 0)).fma(x1, s0);
                    q = (IntVector) ByteVector.fromArray(B1, w, at1 + qs + g).castShape(I, 0);
                    s1 = ((FloatVector) q.and(0x0F).castShape(F, 0)).fma(x0, s1);
                    s1 = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0x0F).castShape(F, 0)).fma(x1, s1);
                }
                float d0 = half(w, at0), d1 = half(w, at1);
                acc0 = s0.fma(FloatVector.broadcast(F, d0), acc0);
                acc1 = s1.fma(FloatVector.broadcast(F, d1), acc1);
                offset0 += (min ? half(w, at0 + 2) : -8 * d0) * xs[b];
                offset1 += (min ? half(w, at1 + 2) : -8 * d1) * xs[b];
            }
            // both lane sums at once, in the pairwise order of R8..R1: row 0's in lane 0, row 1's in lane L/2
            FloatVector m = acc0.blend(acc1, K1).add(acc1.blend(acc0, K1).rearrange(P1));
            m = m.add(m.rearrange(P2));
            m = m.add(m.rearrange(P3));
            m = L == 16 ? m.add(m.rearrange(P4)) : m;
            out[r0 + i] = m.lane(0) + offset0;
            if (i + 1 < n) {
                out[r0 + i + 1] = m.lane(L / 2) + offset1;
            }
        }
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
