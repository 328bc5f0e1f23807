package dev.cna.core.runtime.quant;

import dev.cna.core.model.gguf.GgmlType;

import java.util.Random;

/**
 * Valid random weights in a ggml block layout, for tests and benchmarks: random quant bytes, with every f16 scale
 * field (d, and m or dmin where the type has one) set to a random finite value of a weight-like magnitude, so
 * every bit of the quants, packed 6-bit scales and high-bit planes matters. F32/F16/BF16 are random finite
 * values (F16 includes subnormals).
 */
public final class RandomBlocks {
    private RandomBlocks() {}

    /** Blocks for {@code values} values of {@code type} (a multiple of its block size). */
    public static byte[] of(GgmlType type, long values, Random random) {
        if (values % type.blockSize != 0) {
            throw new IllegalArgumentException(values + " values are not whole " + type + " blocks");
        }
        byte[] bytes = new byte[Math.toIntExact(type.bytesFor(values))];
        switch (type) {
            case F32 -> {
                for (int i = 0; i < bytes.length; i += 4) {
                    putInt(bytes, i, Float.floatToRawIntBits((float) random.nextGaussian()));
                }
            }
            case F16 -> {
                for (int i = 0; i < bytes.length; i += 2) {
                    int h;
                    do {
                        h = random.nextInt(1 << 16);
                    } while ((h & 0x7C00) == 0x7C00 || (h & 0x7C00) > 0x4800); // finite, |value| < 16
                    putShort(bytes, i, h);
                }
            }
            case BF16 -> {
                for (int i = 0; i < bytes.length; i += 2) {
                    putShort(bytes, i, Float.floatToRawIntBits((float) random.nextGaussian()) >>> 16);
                }
            }
            default -> {
                random.nextBytes(bytes);
                int[] scaleFields = switch (type) {
                    case Q8_0, Q4_0, Q5_0 -> new int[] {0};
                    case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
                    case Q6_K -> new int[] {208};
                    default -> throw new UnsupportedOperationException(type.toString());
                };
                for (int at = 0; at < bytes.length; at += type.bytesPerBlock) {
                    for (int field : scaleFields) {
                        putShort(bytes, at + field, randomHalf(random));
                    }
                }
            }
        }
        return bytes;
    }

    /** A random f16 of magnitude 2^-12 .. 2^-3 (weight scales), either sign. */
    private static int randomHalf(Random random) {
        int exponent = 15 - 12 + random.nextInt(10);
        return (random.nextBoolean() ? 0x8000 : 0) | exponent << 10 | random.nextInt(1 << 10);
    }

    private static void putShort(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
    }

    private static void putInt(byte[] b, int at, int v) {
        putShort(b, at, v);
        putShort(b, at + 2, v >>> 16);
    }
}
