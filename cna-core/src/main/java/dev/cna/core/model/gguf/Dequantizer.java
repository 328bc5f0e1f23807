package dev.cna.core.model.gguf;

import java.nio.ByteBuffer;

/** Turns ggml tensor blocks into f32 values, following the block layouts of ggml-quants.c. */
public final class Dequantizer {
    private Dequantizer() {}

    /** Fills dst (its whole length) from the little-endian blocks at the start of src. */
    public static void dequantize(GgmlType type, ByteBuffer src, float[] dst) {
        switch (type) {
            case F32 -> src.asFloatBuffer().get(dst);
            case F16 -> {
                for (int i = 0; i < dst.length; i++) {
                    dst[i] = halfToFloat(src.getShort(2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < dst.length; i++) {
                    dst[i] = Float.intBitsToFloat((src.getShort(2 * i) & 0xFFFF) << 16);
                }
            }
            case Q8_0 -> q8_0(src, dst);
            case Q4_0 -> q4_0(src, dst);
            case Q4_1 -> q4_1(src, dst);
            default -> throw new UnsupportedOperationException("tensor type " + type + " is not supported"
                    + " (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K)");
        }
    }

    private static void q8_0(ByteBuffer src, float[] dst) {
        for (int b = 0, blocks = dst.length / 32; b < blocks; b++) {
            int at = b * 34;
            float d = halfToFloat(src.getShort(at));
            for (int j = 0; j < 32; j++) {
                dst[b * 32 + j] = d * src.get(at + 2 + j);
            }
        }
    }

    private static void q4_0(ByteBuffer src, float[] dst) {
        for (int b = 0, blocks = dst.length / 32; b < blocks; b++) {
            int at = b * 18;
            float d = halfToFloat(src.getShort(at));
            for (int j = 0; j < 16; j++) {
                int q = src.get(at + 2 + j) & 0xFF;
                dst[b * 32 + j] = d * ((q & 0x0F) - 8);
                dst[b * 32 + j + 16] = d * ((q >>> 4) - 8);
            }
        }
    }

    private static void q4_1(ByteBuffer src, float[] dst) {
        for (int b = 0, blocks = dst.length / 32; b < blocks; b++) {
            int at = b * 20;
            float d = halfToFloat(src.getShort(at));
            float m = halfToFloat(src.getShort(at + 2));
            for (int j = 0; j < 16; j++) {
                int q = src.get(at + 4 + j) & 0xFF;
                dst[b * 32 + j] = d * (q & 0x0F) + m;
                dst[b * 32 + j + 16] = d * (q >>> 4) + m;
            }
        }
    }

    /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
    public static float halfToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            float v = mant / 1024f / 16384f; // subnormal: mant * 2^-24
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
