package dev.cna.core.runtime.quant;

import jdk.incubator.vector.FloatVector;

import static dev.cna.core.runtime.quant.Simd.F;
import static dev.cna.core.runtime.quant.Simd.L;

/**
 * f32 slices the attention and the norms work on: dot products and y += a * x, with the Vector API when
 * {@link QuantizedMatrix#vectorized()} (else plain loops, same results to rounding). Slices are (array, offset,
 * length), so a head inside a row of keys needs no copy.
 */
public final class FloatVectors {
    private FloatVectors() {}

    /** sum over i < n of a[ao + i] * b[bo + i]. */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        return QuantizedMatrix.vectorized() ? Vectorized.dot(a, ao, b, bo, n) : scalarDot(a, ao, b, bo, n);
    }

    /** y[yo + i] += alpha * x[xo + i] for i < n. */
    public static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        if (QuantizedMatrix.vectorized()) {
            Vectorized.axpy(alpha, x, xo, y, yo, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }

    private static float scalarDot(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    /** Loaded only when the vector module is present. */
    private static final class Vectorized {
        static float dot(float[] a, int ao, float[] b, int bo, int n) {
            return F32Kernels.dot(a, ao, b, bo, n);
        }

        static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
            FloatVector av = FloatVector.broadcast(F, alpha);
            int i = 0;
            for (int end = n - L; i <= end; i += L) {
                FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
            }
            for (; i < n; i++) {
                y[yo + i] += alpha * x[xo + i];
            }
        }
    }
}
