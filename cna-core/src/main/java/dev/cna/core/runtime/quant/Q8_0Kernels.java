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
 * Q8_0 (block_q8_0, 34 bytes per 32 values): f16 d, 32 int8 q. Value = d * q. The dot sums q * x over the block
 * in a vector and scales it by d once.
 */
final class Q8_0Kernels {
    private Q8_0Kernels() {}

    static final int BYTES = 34;

    static float dot(byte[] w, int off, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0, blocks = n / 32; b < blocks; b++) {
            int at = off + b * BYTES;
            int xo = b * 32;
            FloatVector s = FloatVector.zero(F);
            for (int g = 0; g < 32; g += L) {
                IntVector q = (IntVector) ByteVector.fromArray(B1, w, at + 2 + g).castShape(I, 0);
                s = ((FloatVector) q.castShape(F, 0)).fma(FloatVector.fromArray(F, x, xo + g), s);
            }
            acc = s.fma(FloatVector.broadcast(F, half(w, at)), acc);
        }
        FloatVector sum = acc;
        if (L == 16) {
            sum = sum.add(sum.rearrange(R8));
        }
        sum = sum.add(sum.rearrange(R4));
        sum = sum.add(sum.rearrange(R2));
        sum = sum.add(sum.rearrange(R1));
        return sum.lane(0);
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
