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
            case Q5_0 -> q5_0(src, dst);
            case Q5_1 -> q5_1(src, dst);
            case Q4_K -> q4_K(src, dst);
            case Q5_K -> q5_K(src, dst);
            case Q6_K -> q6_K(src, dst);
            default -> throw new UnsupportedOperationException("tensor type " + type + " is not supported"
                    + " (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)");
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

    /**
     * Q5_0 block of 32 values, 22 bytes: f16 d, 4 bytes qh (a little-endian u32 holding the fifth bit of every
     * value: bit j for value j), 16 bytes qs (value j in the low nibble of qs[j], value j+16 in the high
     * nibble). Value = d * (q - 16), q in 0..31.
     */
    private static void q5_0(ByteBuffer src, float[] dst) {
        for (int b = 0, blocks = dst.length / 32; b < blocks; b++) {
            int at = b * 22;
            float d = halfToFloat(src.getShort(at));
            int qh = src.getInt(at + 2);
            for (int j = 0; j < 16; j++) {
                int q = src.get(at + 6 + j) & 0xFF;
                int x0 = ((q & 0x0F) | (((qh >>> j) << 4) & 0x10)) - 16;
                int x1 = ((q >>> 4) | ((qh >>> (j + 12)) & 0x10)) - 16;
                dst[b * 32 + j] = x0 * d;
                dst[b * 32 + j + 16] = x1 * d;
            }
        }
    }

    /** Q5_1 block of 32 values, 24 bytes: f16 d, f16 m, then qh and qs as Q5_0. Value = d * q + m, q in 0..31. */
    private static void q5_1(ByteBuffer src, float[] dst) {
        for (int b = 0, blocks = dst.length / 32; b < blocks; b++) {
            int at = b * 24;
            float d = halfToFloat(src.getShort(at));
            float m = halfToFloat(src.getShort(at + 2));
            int qh = src.getInt(at + 4);
            for (int j = 0; j < 16; j++) {
                int q = src.get(at + 8 + j) & 0xFF;
                int x0 = (q & 0x0F) | (((qh >>> j) << 4) & 0x10);
                int x1 = (q >>> 4) | ((qh >>> (j + 12)) & 0x10);
                dst[b * 32 + j] = x0 * d + m;
                dst[b * 32 + j + 16] = x1 * d + m;
            }
        }
    }

    /**
     * Q4_K super-block of 256 values, 144 bytes: f16 d, f16 dmin, 12 bytes of packed 6-bit scales and mins
     * (8 sub-blocks of 32), 128 bytes of 4-bit quants. Each 32 bytes of quants hold two sub-blocks: the low
     * nibbles the first, the high nibbles the second. Value = d * scale * q - dmin * min.
     */
    private static void q4_K(ByteBuffer src, float[] dst) {
        byte[] scales = new byte[12];
        int[] scaleMin = new int[2];
        for (int b = 0, blocks = dst.length / 256; b < blocks; b++) {
            int at = b * 144;
            float d = halfToFloat(src.getShort(at));
            float min = halfToFloat(src.getShort(at + 2));
            src.get(at + 4, scales);
            int qs = at + 16;
            int y = b * 256;
            for (int j = 0, is = 0; j < 256; j += 64, is += 2) {
                scaleMinK4(is, scales, scaleMin);
                float d1 = d * scaleMin[0];
                float m1 = min * scaleMin[1];
                scaleMinK4(is + 1, scales, scaleMin);
                float d2 = d * scaleMin[0];
                float m2 = min * scaleMin[1];
                for (int l = 0; l < 32; l++) {
                    dst[y++] = d1 * (src.get(qs + l) & 0x0F) - m1;
                }
                for (int l = 0; l < 32; l++) {
                    dst[y++] = d2 * ((src.get(qs + l) & 0xFF) >>> 4) - m2;
                }
                qs += 32;
            }
        }
    }

    /**
     * Q5_K super-block of 256 values, 176 bytes: f16 d, f16 dmin, 12 bytes of scales and mins (as Q4_K),
     * 32 bytes qh holding the fifth bit, 128 bytes of low 4 bits. Sub-block pair p takes its fifth bits
     * from bits 2p and 2p+1 of qh[l].
     */
    private static void q5_K(ByteBuffer src, float[] dst) {
        byte[] scales = new byte[12];
        int[] scaleMin = new int[2];
        for (int b = 0, blocks = dst.length / 256; b < blocks; b++) {
            int at = b * 176;
            float d = halfToFloat(src.getShort(at));
            float min = halfToFloat(src.getShort(at + 2));
            src.get(at + 4, scales);
            int qh = at + 16;
            int ql = at + 48;
            int y = b * 256;
            int u1 = 1;
            int u2 = 2;
            for (int j = 0, is = 0; j < 256; j += 64, is += 2) {
                scaleMinK4(is, scales, scaleMin);
                float d1 = d * scaleMin[0];
                float m1 = min * scaleMin[1];
                scaleMinK4(is + 1, scales, scaleMin);
                float d2 = d * scaleMin[0];
                float m2 = min * scaleMin[1];
                for (int l = 0; l < 32; l++) {
                    int high = (src.get(qh + l) & u1) != 0 ? 16 : 0;
                    dst[y++] = d1 * ((src.get(ql + l) & 0x0F) + high) - m1;
                }
                for (int l = 0; l < 32; l++) {
                    int high = (src.get(qh + l) & u2) != 0 ? 16 : 0;
                    dst[y++] = d2 * (((src.get(ql + l) & 0xFF) >>> 4) + high) - m2;
                }
                ql += 32;
                u1 <<= 2;
                u2 <<= 2;
            }
        }
    }

    /**
     * Q6_K super-block of 256 values, 210 bytes: 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits),
     * 16 signed 8-bit scales (one per 16 values), f16 d. Value = d * scale * (q - 32). Each half of 128
     * values interleaves four groups of 32 over the same ql/qh bytes.
     */
    private static void q6_K(ByteBuffer src, float[] dst) {
        for (int b = 0, blocks = dst.length / 256; b < blocks; b++) {
            int at = b * 210;
            float d = halfToFloat(src.getShort(at + 208));
            int ql = at;
            int qh = at + 128;
            int sc = at + 192;
            int y = b * 256;
            for (int n = 0; n < 256; n += 128) {
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int low0 = src.get(ql + l) & 0xFF;
                    int low32 = src.get(ql + l + 32) & 0xFF;
                    int high = src.get(qh + l) & 0xFF;
                    int q1 = ((low0 & 0x0F) | ((high & 3) << 4)) - 32;
                    int q2 = ((low32 & 0x0F) | (((high >>> 2) & 3) << 4)) - 32;
                    int q3 = ((low0 >>> 4) | (((high >>> 4) & 3) << 4)) - 32;
                    int q4 = ((low32 >>> 4) | (((high >>> 6) & 3) << 4)) - 32;
                    dst[y + l] = d * src.get(sc + is) * q1;
                    dst[y + l + 32] = d * src.get(sc + is + 2) * q2;
                    dst[y + l + 64] = d * src.get(sc + is + 4) * q3;
                    dst[y + l + 96] = d * src.get(sc + is + 6) * q4;
                }
                y += 128;
                ql += 64;
                qh += 32;
                sc += 8;
            }
        }
    }

    /**
     * ggml's get_scale_min_k4: sub-block j's 6-bit scale and min. For j < 4 they are the low 6 bits of
     * bytes j and j+4; for j >= 4 the low 4 bits come from byte j+4 (scale: low nibble, min: high nibble)
     * and the top 2 bits from the spare top bits of bytes j-4 (scale) and j (min).
     */
    private static void scaleMinK4(int j, byte[] q, int[] scaleMin) {
        if (j < 4) {
            scaleMin[0] = q[j] & 63;
            scaleMin[1] = q[j + 4] & 63;
        } else {
            scaleMin[0] = (q[j + 4] & 0x0F) | (((q[j - 4] & 0xFF) >>> 6) << 4);
            scaleMin[1] = ((q[j + 4] & 0xFF) >>> 4) | (((q[j] & 0xFF) >>> 6) << 4);
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
