package dev.cna.core.runtime.quant;

import jdk.incubator.vector.FloatVector;

import static dev.cna.core.runtime.quant.Simd.F;
import static dev.cna.core.runtime.quant.Simd.L;

/**
 * f32 slices the attention and the norms work on: dot products, y += a * x, attention scores and weighted rows, with the Vector API when
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

    /**
     * Attention scores against keys stored transposed: out[s] = scale * sum over d < dims of q[qo + d] *
     * keys[ko + d * stride + s], for s < span (keys of one head: dimension d of position s at d * stride + s).
     * Each output vector is summed over all dims in registers and stored once (an axpy per dimension loaded and
     * stored every score dims times).
     */
    public static void scores(float[] q, int qo, float scale, float[] keys, int ko, int stride, int dims, float[] out, int span) {
        int s = QuantizedMatrix.vectorized() ? Vectorized.scores(q, qo, keys, ko, stride, dims, out, span) : 0;
        for (; s < span; s++) {
            float sum = 0;
            for (int d = 0; d < dims; d++) {
                sum += q[qo + d] * keys[ko + d * stride + s];
            }
            out[s] = sum;
        }
        for (int i = 0; i < span; i++) {
            out[i] *= scale;
        }
    }

    /**
     * A weighted sum of rows: out[oo + j] = sum over s < span of p[s] * rows[ro + s * stride + j], for j < n (the
     * attention's values). Vectorized in blocks of 4L output values held in registers over all rows.
     */
    public static void weightedRows(float[] p, int span, float[] rows, int ro, int stride, float[] out, int oo, int n) {
        int j = QuantizedMatrix.vectorized() ? Vectorized.weightedRows(p, span, rows, ro, stride, out, oo, n) : 0;
        for (; j < n; j++) {
            float sum = 0;
            for (int s = 0; s < span; s++) {
                sum += p[s] * rows[ro + s * stride + j];
            }
            out[oo + j] = sum;
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

        /** The vector part of {@link FloatVectors#scores} (unscaled): outputs [0, returned) done, two vectors at a time. */
        static int scores(float[] q, int qo, float[] keys, int ko, int stride, int dims, float[] out, int span) {
            int s = 0;
            for (int end = span - 2 * L; s <= end; s += 2 * L) {
                FloatVector a0 = FloatVector.zero(F), a1 = a0;
                for (int d = 0, at = ko + s; d < dims; d++, at += stride) {
                    FloatVector qd = FloatVector.broadcast(F, q[qo + d]);
                    a0 = FloatVector.fromArray(F, keys, at).fma(qd, a0);
                    a1 = FloatVector.fromArray(F, keys, at + L).fma(qd, a1);
                }
                a0.intoArray(out, s);
                a1.intoArray(out, s + L);
            }
            for (int end = span - L; s <= end; s += L) {
                FloatVector a0 = FloatVector.zero(F);
                for (int d = 0, at = ko + s; d < dims; d++, at += stride) {
                    a0 = FloatVector.fromArray(F, keys, at).fma(FloatVector.broadcast(F, q[qo + d]), a0);
                }
                a0.intoArray(out, s);
            }
            return s;
        }

        /** The vector part of {@link FloatVectors#weightedRows}: outputs [0, returned) done, 4L at a time. */
        static int weightedRows(float[] p, int span, float[] rows, int ro, int stride, float[] out, int oo, int n) {
            int j = 0;
            for (int end = n - 4 * L; j <= end; j += 4 * L) {
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                for (int s = 0, at = ro + j; s < span; s++, at += stride) {
                    FloatVector ps = FloatVector.broadcast(F, p[s]);
                    a0 = FloatVector.fromArray(F, rows, at).fma(ps, a0);
                    a1 = FloatVector.fromArray(F, rows, at + L).fma(ps, a1);
                    a2 = FloatVector.fromArray(F, rows, at + 2 * L).fma(ps, a2);
                    a3 = FloatVector.fromArray(F, rows, at + 3 * L).fma(ps, a3);
                }
                a0.intoArray(out, oo + j);
                a1.intoArray(out, oo + j + L);
                a2.intoArray(out, oo + j + 2 * L);
                a3.intoArray(out, oo + j + 3 * L);
            }
            for (int end = n - L; j <= end; j += L) {
                FloatVector a0 = FloatVector.zero(F);
                for (int s = 0, at = ro + j; s < span; s++, at += stride) {
                    a0 = FloatVector.fromArray(F, rows, at).fma(FloatVector.broadcast(F, p[s]), a0);
                }
                a0.intoArray(out, oo + j);
            }
            return j;
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
