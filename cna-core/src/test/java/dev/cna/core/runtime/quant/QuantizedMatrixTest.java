package dev.cna.core.runtime.quant;

import dev.cna.core.model.gguf.Dequantizer;
import dev.cna.core.model.gguf.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The kernels against the reference: every row dequantized by {@link Dequantizer} and dotted with x in f32.
 *
 * <p>Tolerance: |kernel - reference| <= 2e-6 * sum_k |w_k * x_k| for every row, where the reference is the
 * sequential f32 dot. Both are f32 sums of the same exact products in different orders (the kernels sum per
 * lane, fold block scales in after the block sum and move per-block offsets and mins to x's block sums), so they
 * differ by rounding only: a few f32 ulps of the absolute sum; the largest relative error seen is printed. The
 * decoders of the batched path are checked bit for bit against Dequantizer.
 */
class QuantizedMatrixTest {
    static final GgmlType[] TYPES = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0,
            GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K};
    static final double TOLERANCE = 2e-6;

    /** Shapes per type: odd row counts, block counts that are odd, and F-type rows that are not whole vectors. */
    private static int[][] shapes(GgmlType type) {
        return switch (type.blockSize) {
            case 1 -> new int[][] {{1, 1}, {7, 13}, {33, 61}, {5, 576}, {19, 1000}, {3, 4099}};
            case 32 -> new int[][] {{1, 32}, {7, 96}, {33, 224}, {5, 576}, {19, 1536}, {3, 4096 + 32}};
            default -> new int[][] {{1, 256}, {7, 768}, {33, 256 * 5}, {5, 1536}, {3, 4096 + 256}};
        };
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void matVecEqualsDequantizeThenDot(GgmlType type) {
        Random random = new Random(type.id * 31L + 7);
        double worst = 0;
        for (int[] shape : shapes(type)) {
            int rows = shape[0], cols = shape[1];
            byte[] blocks = RandomBlocks.of(type, (long) rows * cols, random);
            float[] x = gaussian(cols, random);
            float[] reference = new float[rows];
            double[] scale = new double[rows];
            reference(type, blocks, rows, cols, x, reference, scale);
            for (QuantizedMatrix m : variants(type, rows, cols, blocks)) {
                float[] out = new float[rows];
                m.matVec(x, out);
                worst = Math.max(worst, assertClose(type + " " + rows + "x" + cols, reference, scale, out));
            }
        }
        System.out.printf("%s matVec: largest |kernel - reference| / sum|w x| = %.2e (%s)%n", type, worst,
                QuantizedMatrix.backend());
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void batchedMatMulEqualsMatVecPerRow(GgmlType type) {
        Random random = new Random(type.id * 17L + 3);
        for (int[] shape : shapes(type)) {
            int rows = shape[0], cols = shape[1];
            byte[] blocks = RandomBlocks.of(type, (long) rows * cols, random);
            for (int batch : new int[] {2, 3, 4, 5, 9, 16}) {
                float[][] xs = new float[batch][];
                float[][] reference = new float[batch][rows];
                double[][] scale = new double[batch][rows];
                for (int b = 0; b < batch; b++) {
                    xs[b] = gaussian(cols, random);
                    reference(type, blocks, rows, cols, xs[b], reference[b], scale[b]);
                }
                for (QuantizedMatrix m : variants(type, rows, cols, blocks)) {
                    float[][] outs = new float[batch][rows];
                    m.matMul(xs, outs);
                    for (int b = 0; b < batch; b++) {
                        float[] single = new float[rows];
                        m.matVec(xs[b], single);
                        String what = type + " " + rows + "x" + cols + " batch " + batch + " row " + b;
                        assertClose(what + " vs reference", reference[b], scale[b], outs[b]);
                        assertClose(what + " vs matVec", single, scale[b], outs[b]);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void parallelEqualsSerialExactly(GgmlType type) {
        Random random = new Random(type.id);
        Workers pool = new Workers(3, "test");
        try {
            // enough rows for several 16 KiB tiles per task, and an odd count so the last task is short
            int cols = type.blockSize == 256 ? 1536 : 576;
            int rows = 301;
            byte[] blocks = RandomBlocks.of(type, (long) rows * cols, random);
            for (QuantizedMatrix m : variants(type, rows, cols, blocks)) {
                float[] x = gaussian(cols, random);
                float[] serial = new float[rows];
                float[] parallel = new float[rows];
                m.matVec(x, serial);
                m.matVecParallel(x, parallel, pool);
                assertArrayEquals(serial, parallel, type + " matVecParallel");

                float[][] xs = {gaussian(cols, random), gaussian(cols, random), x, gaussian(cols, random), gaussian(cols, random)};
                float[][] serials = new float[xs.length][rows];
                float[][] parallels = new float[xs.length][rows];
                m.matMul(xs, serials);
                m.matMulParallel(xs, parallels, pool);
                for (int b = 0; b < xs.length; b++) {
                    assertArrayEquals(serials[b], parallels[b], type + " matMulParallel row " + b);
                }
                float[][] one = new float[1][rows];
                m.matMulParallel(new float[][] {x}, one, pool);
                assertArrayEquals(serial, one[0], type + " matMulParallel of one row");
            }
        } finally {
            pool.close();
        }
    }

    /**
     * The heap buffer (read in place), a direct buffer (copied in tiles) and an offset heap slice agree exactly; the
     * scalar path agrees to the tolerance (checked in the tests above).
     */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void everyBufferKindGivesTheSameBits(GgmlType type) {
        Random random = new Random(99 + type.id);
        int cols = type.blockSize == 256 ? 2048 : 1024;
        int rows = 77;
        byte[] blocks = RandomBlocks.of(type, (long) rows * cols, random);
        float[] x = gaussian(cols, random);
        float[] expected = null;
        QuantizedMatrix[] variants = variants(type, rows, cols, blocks);
        for (int v = 0; v < 3; v++) {
            QuantizedMatrix m = variants[v];
            float[] out = new float[rows];
            m.matVec(x, out);
            if (expected == null) {
                expected = out;
            } else {
                assertArrayEquals(expected, out, type + " " + m.data().isDirect());
            }
        }
    }

    /** The batched path's decoders give exactly Dequantizer's values, specials (F16/BF16 infinities, NaNs) too. */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void decodersMatchDequantizerBitForBit(GgmlType type) {
        if (!QuantizedMatrix.vectorized()) {
            fail("the Vector API kernels are off (" + QuantizedMatrix.backend() + "): run with --add-modules jdk.incubator.vector");
        }
        Random random = new Random(5 + type.id);
        int n = type.blockSize == 256 ? 256 * 6 : 32 * 11 + (type.blockSize == 1 ? 7 : 0);
        byte[] blocks = RandomBlocks.of(type, n, random);
        if (type == GgmlType.F16 || type == GgmlType.BF16) {
            random.nextBytes(blocks); // every bit pattern: subnormals, infinities, NaNs
        }
        byte[] shifted = new byte[blocks.length + 5];
        System.arraycopy(blocks, 0, shifted, 5, blocks.length);
        float[] expected = new float[n];
        Dequantizer.dequantize(type, ByteBuffer.wrap(blocks).order(ByteOrder.LITTLE_ENDIAN), expected);
        float[] actual = new float[n];
        switch (type) {
            case F32 -> F32Kernels.decode(shifted, 5, actual, n);
            case F16 -> F16Kernels.decode(shifted, 5, actual, n);
            case BF16 -> BF16Kernels.decode(shifted, 5, actual, n);
            case Q8_0 -> Q8_0Kernels.decode(shifted, 5, actual, n);
            case Q4_0 -> Q4_0Kernels.decode(shifted, 5, actual, n);
            case Q4_1 -> Q4_1Kernels.decode(shifted, 5, actual, n);
            case Q5_0 -> Q5_0Kernels.decode(shifted, 5, actual, n);
            case Q5_1 -> Q5_1Kernels.decode(shifted, 5, actual, n);
            case Q4_K -> Q4KKernels.decode(shifted, 5, actual, n);
            case Q5_K -> Q5KKernels.decode(shifted, 5, actual, n);
            case Q6_K -> Q6KKernels.decode(shifted, 5, actual, n);
            default -> fail(type.toString());
        }
        for (int i = 0; i < n; i++) {
            int want = Float.floatToRawIntBits(expected[i]);
            int got = Float.floatToRawIntBits(actual[i]);
            if (want != got) {
                fail(String.format("%s value %d: Dequantizer %s (0x%08x), kernel %s (0x%08x)", type, i, expected[i], want, actual[i], got));
            }
        }
    }

    @Test
    void runsOnTheVectorApiInTests() {
        assertTrue(QuantizedMatrix.vectorized(), "tests should run the Vector API kernels: " + QuantizedMatrix.backend());
        System.out.println("quant kernels: " + QuantizedMatrix.backend());
    }

    @Test
    void rowIsTheDequantizedRow() {
        Random random = new Random(8);
        byte[] blocks = RandomBlocks.of(GgmlType.Q6_K, 5 * 512, random);
        QuantizedMatrix m = QuantizedMatrix.of(GgmlType.Q6_K, 5, 512, ByteBuffer.wrap(blocks));
        float[] all = new float[5 * 512];
        Dequantizer.dequantize(GgmlType.Q6_K, ByteBuffer.wrap(blocks).order(ByteOrder.LITTLE_ENDIAN), all);
        float[] row = new float[512];
        m.row(3, row);
        for (int k = 0; k < 512; k++) {
            assertEquals(all[3 * 512 + k], row[k]);
        }
        float[] longer = new float[600];
        m.row(4, longer);
        assertEquals(all[4 * 512 + 511], longer[511]);
    }

    @Test
    void rejectsWhatItCannotCompute() {
        ByteBuffer buf = ByteBuffer.allocate(1 << 12);
        assertThrows(UnsupportedOperationException.class, () -> QuantizedMatrix.of(GgmlType.Q2_K, 1, 256, buf));
        assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.of(GgmlType.Q4_0, 1, 48, buf));
        assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.of(GgmlType.F32, 2, 1024, buf));
        QuantizedMatrix m = QuantizedMatrix.of(GgmlType.Q8_0, 4, 64, buf);
        assertEquals(4 * 68, m.bytes());
        assertThrows(IllegalArgumentException.class, () -> m.matVec(new float[63], new float[4]));
        assertThrows(IllegalArgumentException.class, () -> m.matVec(new float[64], new float[3]));
        assertThrows(IllegalArgumentException.class, () -> m.matMul(new float[2][64], new float[1][4]));
        assertThrows(IllegalArgumentException.class, () -> m.matMul(new float[0][], new float[0][]));
    }

    // ---- helpers ----

    /**
     * The same blocks as a heap buffer, a direct buffer, a heap slice at a non-zero array offset, and on the scalar
     * path.
     */
    static QuantizedMatrix[] variants(GgmlType type, int rows, int cols, byte[] blocks) {
        ByteBuffer direct = ByteBuffer.allocateDirect(blocks.length);
        direct.put(blocks).flip();
        byte[] padded = new byte[blocks.length + 3];
        System.arraycopy(blocks, 0, padded, 3, blocks.length);
        return new QuantizedMatrix[] {
                QuantizedMatrix.of(type, rows, cols, ByteBuffer.wrap(blocks)),
                QuantizedMatrix.of(type, rows, cols, direct),
                QuantizedMatrix.of(type, rows, cols, ByteBuffer.wrap(padded, 3, blocks.length).slice()),
                QuantizedMatrix.scalar(type, rows, cols, ByteBuffer.wrap(blocks)),
        };
    }

    /** Per row: the sequential f32 dot of the Dequantizer values with x, and sum |w_k x_k| for the tolerance. */
    static void reference(GgmlType type, byte[] blocks, int rows, int cols, float[] x, float[] out, double[] scale) {
        float[] w = new float[cols];
        long rowBytes = type.bytesFor(cols);
        for (int r = 0; r < rows; r++) {
            ByteBuffer row = ByteBuffer.wrap(blocks, (int) (r * rowBytes), (int) rowBytes).slice().order(ByteOrder.LITTLE_ENDIAN);
            Dequantizer.dequantize(type, row, w);
            float sum = 0;
            double abs = 0;
            for (int k = 0; k < cols; k++) {
                sum += w[k] * x[k];
                abs += Math.abs((double) w[k] * x[k]);
            }
            out[r] = sum;
            scale[r] = abs;
        }
    }

    /** Asserts every row within the tolerance; returns the largest relative error. */
    static double assertClose(String what, float[] expected, double[] scale, float[] actual) {
        double worst = 0;
        for (int r = 0; r < expected.length; r++) {
            double err = Math.abs((double) actual[r] - expected[r]);
            double bound = TOLERANCE * scale[r] + 1e-30;
            if (!(err <= bound)) {
                fail(String.format("%s, row %d: expected %s, got %s (|diff| %.3e > %.1e * sum|w x| = %.3e)",
                        what, r, expected[r], actual[r], err, TOLERANCE, bound));
            }
            worst = Math.max(worst, scale[r] == 0 ? 0 : err / scale[r]);
        }
        return worst;
    }

    static float[] gaussian(int n, Random random) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }
}
