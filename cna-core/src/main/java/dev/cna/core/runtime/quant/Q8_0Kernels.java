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
 * Q8_0 (block_q8_0, 34 bytes per 32 values): f16 d, 32 int8 q. Value = d * q. The dot sums q * x over the block
 * in a vector and scales it by d once.
 */
final class Q8_0Kernels {
    private Q8_0Kernels() {}

    static final int BYTES = 34;

    /**
     * out[r0 + i] = dot(row i, x) for i < n, row i at w[off + i * rowBytes], x of a row's length. Two rows at a time,
     * each load of x feeding both; an odd last row is paired with itself.
     */
    static void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] out, int r0) {
        for (int i = 0; i < n; i += 2) {
            int o0 = off + i * rowBytes;
            int o1 = i + 1 < n ? o0 + rowBytes : o0;
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            for (int b = 0, blocks = x.length / 32; b < blocks; b++) {
                int at0 = o0 + b * BYTES, at1 = o1 + b * BYTES;
                int xo = b * 32;
                FloatVector s0 = FloatVector.zero(F), s1 = s0;
                for (int g = 0; g < 32; g += L) {
                    FloatVector xv = FloatVector.fromArray(F, x, xo + g);
                    IntVector q = (IntVector) ByteVector.fromArray(B1, w, at0 + 2 + g).castShape(I, 0);
                    s0 = ((FloatVector) q.castShape(F, 0)).fma(xv, s0);
                    q = (IntVector) ByteVector.fromArray(B1, w, at1 + 2 + g).castShape(I, 0);
                    s1 = ((FloatVector) q.castShape(F, 0)).fma(xv, s1);
                }
                acc0 = s0.fma(FloatVector.broadcast(F, half(w, at0)), acc0);
                acc1 = s1.fma(FloatVector.broadcast(F, half(w, at1)), acc1);
            }
            // both lane sums at once, in the pairwise order of R8..R1: row 0's in lane 0, row 1's in lane L/2
            FloatVector m = acc0.blend(acc1, K1).add(acc1.blend(acc0, K1).rearrange(P1));
            m = m.add(m.rearrange(P2));
            m = m.add(m.rearrange(P3));
            m = L == 16 ? m.add(m.rearrange(P4)) : m;
            out[r0 + i] = m.lane(0);
            if (i + 1 < n) {
                out[r0 + i + 1] = m.lane(L / 2);
            }
        }
    }

    /** The block values exactly as Dequantizer computes them (d * q). */
    static void decode(byte[] w, int off, float[] dst, int n) {
        for (int b = 0, blocks = n / 32; b < blocks; b++) {
            int at = off + b * BYTES;
            float d = half(w, at);
            for (int g = 0; g < 32; g += L) {
                IntVector q = (IntVector) ByteVector.fromArray(B1, w, at + 2 + g).castShape(I, 0);
                ((FloatVector) q.castShape(F, 0)).mul(d).intoArray(dst, b * 32 + g);
            }
        }
    }
}
