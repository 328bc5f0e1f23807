package dev.cna.core.runtime.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static dev.cna.core.runtime.quant.Simd.B2;
import static dev.cna.core.runtime.quant.Simd.F;
import static dev.cna.core.runtime.quant.Simd.I;
import static dev.cna.core.runtime.quant.Simd.L;
import static dev.cna.core.runtime.quant.Simd.S;
import static dev.cna.core.runtime.quant.Simd.R1;
import static dev.cna.core.runtime.quant.Simd.R2;
import static dev.cna.core.runtime.quant.Simd.R4;
import static dev.cna.core.runtime.quant.Simd.R8;

/** BF16 rows: L values widened to ints and shifted into the top half of an f32; scalar tail. */
final class BF16Kernels {
    private BF16Kernels() {}

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    static float dot(byte[] w, int off, float[] x, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int k = 0;
        for (int end = n - 2 * L; k <= end; k += 2 * L) {
            IntVector h0 = (IntVector) ByteVector.fromArray(B2, w, off + 2 * k).reinterpretShape(S, 0).castShape(I, 0);
            IntVector h1 = (IntVector) ByteVector.fromArray(B2, w, off + 2 * k + 2 * L).reinterpretShape(S, 0).castShape(I, 0);
            a0 = ((FloatVector) h0.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0)).fma(FloatVector.fromArray(F, x, k), a0);
            a1 = ((FloatVector) h1.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0)).fma(FloatVector.fromArray(F, x, k + L), a1);
        }
        for (int end = n - L; k <= end; k += L) {
            IntVector h = (IntVector) ByteVector.fromArray(B2, w, off + 2 * k).reinterpretShape(S, 0).castShape(I, 0);
            a0 = ((FloatVector) h.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0)).fma(FloatVector.fromArray(F, x, k), a0);
        }
        FloatVector lanes = a0.add(a1);
        if (L == 16) {
            lanes = lanes.add(lanes.rearrange(R8));
        }
        lanes = lanes.add(lanes.rearrange(R4));
        lanes = lanes.add(lanes.rearrange(R2));
        lanes = lanes.add(lanes.rearrange(R1));
        float sum = lanes.lane(0);
        for (; k < n; k++) {
            sum += scalar(w, off + 2 * k) * x[k];
        }
        return sum;
    }

    static void decode(byte[] w, int off, float[] dst, int n) {
        int k = 0;
        for (int end = n - L; k <= end; k += L) {
            IntVector h = (IntVector) ByteVector.fromArray(B2, w, off + 2 * k).reinterpretShape(S, 0).castShape(I, 0);
            ((FloatVector) h.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0)).intoArray(dst, k);
        }
        for (; k < n; k++) {
            dst[k] = scalar(w, off + 2 * k);
        }
    }

    private static float scalar(byte[] w, int at) {
        return Float.intBitsToFloat(((short) SHORT.get(w, at) & 0xFFFF) << 16);
    }
}
