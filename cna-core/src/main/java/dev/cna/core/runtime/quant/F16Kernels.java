package dev.cna.core.runtime.quant;

import dev.cna.core.model.gguf.Dequantizer;
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

/**
 * F16 rows. L halves are widened to ints and converted exactly: exponent and mantissa shifted into f32 position
 * and scaled by 2^112 (exact for normals and subnormals), infinities and NaNs patched by a mask, the sign put
 * back. Scalar tail.
 */
final class F16Kernels {
    private F16Kernels() {}

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    static float dot(byte[] w, int off, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        int k = 0;
        for (int end = n - L; k <= end; k += L) {
            IntVector h = (IntVector) ByteVector.fromArray(B2, w, off + 2 * k).reinterpretShape(S, 0).castShape(I, 0);
            IntVector magnitude = h.and(0x7FFF);
            IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
            IntVector scaled = (IntVector) ((FloatVector) shifted.reinterpretShape(F, 0)).mul(0x1p112f).reinterpretShape(I, 0);
            FloatVector v = (FloatVector) scaled.blend(shifted.or(0x7F800000), magnitude.compare(VectorOperators.GE, 0x7C00))
                    .or(h.and(0x80000000)).reinterpretShape(F, 0);
            acc = v.fma(FloatVector.fromArray(F, x, k), acc);
        }
        FloatVector lanes = acc;
        if (L == 16) {
            lanes = lanes.add(lanes.rearrange(R8));
        }
        lanes = lanes.add(lanes.rearrange(R4));
        lanes = lanes.add(lanes.rearrange(R2));
        lanes = lanes.add(lanes.rearrange(R1));
        float sum = lanes.lane(0);
        for (; k < n; k++) {
            sum += Dequantizer.halfToFloat((short) SHORT.get(w, off + 2 * k)) * x[k];
        }
        return sum;
    }

    static void decode(byte[] w, int off, float[] dst, int n) {
        int k = 0;
        for (int end = n - L; k <= end; k += L) {
            IntVector h = (IntVector) ByteVector.fromArray(B2, w, off + 2 * k).reinterpretShape(S, 0).castShape(I, 0);
            IntVector magnitude = h.and(0x7FFF);
            IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
            IntVector scaled = (IntVector) ((FloatVector) shifted.reinterpretShape(F, 0)).mul(0x1p112f).reinterpretShape(I, 0);
            ((FloatVector) scaled.blend(shifted.or(0x7F800000), magnitude.compare(VectorOperators.GE, 0x7C00))
                    .or(h.and(0x80000000)).reinterpretShape(F, 0)).intoArray(dst, k);
        }
        for (; k < n; k++) {
            dst[k] = Dequantizer.halfToFloat((short) SHORT.get(w, off + 2 * k));
        }
    }
}
