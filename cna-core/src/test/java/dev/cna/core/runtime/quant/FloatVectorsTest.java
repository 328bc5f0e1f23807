package dev.cna.core.runtime.quant;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The attention's f32 kernels against plain double loops, on lengths that hit the vector blocks and the scalar tails. */
class FloatVectorsTest {

    @Test
    void scoresAreScaledDotsWithTransposedKeys() {
        Random random = new Random(7);
        for (int span : new int[] {1, 15, 16, 31, 32, 33, 100, 257}) {
            for (int dims : new int[] {8, 64, 128}) {
                int stride = span + 5; // the cache's capacity: room past the span, as in RowKvCache
                float[] q = gaussian(random, 3 + dims);
                float[] keys = gaussian(random, 2 * stride + dims * stride);
                float[] out = new float[span];
                FloatVectors.scores(q, 3, 0.125f, keys, 2 * stride, stride, dims, out, span);
                for (int s = 0; s < span; s++) {
                    double expected = 0;
                    for (int d = 0; d < dims; d++) {
                        expected += (double) q[3 + d] * keys[2 * stride + d * stride + s];
                    }
                    assertEquals(0.125 * expected, out[s], 1e-5 * Math.sqrt(dims), "span " + span + ", dims " + dims + ", s " + s);
                }
            }
        }
    }

    @Test
    void weightedRowsSumTheRowsByWeight() {
        Random random = new Random(11);
        for (int span : new int[] {1, 7, 64, 300}) {
            for (int n : new int[] {8, 24, 64, 70, 128}) {
                int stride = n + 9; // rows of a wider buffer (all kv heads), read at an offset
                float[] p = gaussian(random, span);
                float[] rows = gaussian(random, 4 + span * stride);
                float[] out = new float[2 + n];
                FloatVectors.weightedRows(p, span, rows, 4, stride, out, 2, n);
                for (int j = 0; j < n; j++) {
                    double expected = 0;
                    for (int s = 0; s < span; s++) {
                        expected += (double) p[s] * rows[4 + s * stride + j];
                    }
                    assertEquals(expected, out[2 + j], 1e-5 * Math.sqrt(span), "span " + span + ", n " + n + ", j " + j);
                }
                assertEquals(0f, out[0]);
                assertEquals(0f, out[1]);
            }
        }
    }

    private static float[] gaussian(Random random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }
}
