package dev.cna.core.runtime.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static dev.cna.core.runtime.quant.Simd.B4;
import static dev.cna.core.runtime.quant.Simd.F;
import static dev.cna.core.runtime.quant.Simd.K1;
import static dev.cna.core.runtime.quant.Simd.K2;
import static dev.cna.core.runtime.quant.Simd.K3;
import static dev.cna.core.runtime.quant.Simd.K4;
import static dev.cna.core.runtime.quant.Simd.L;
import static dev.cna.core.runtime.quant.Simd.P1;
import static dev.cna.core.runtime.quant.Simd.P2;
import static dev.cna.core.runtime.quant.Simd.P3;
import static dev.cna.core.runtime.quant.Simd.P4;
import static dev.cna.core.runtime.quant.Simd.R1;
import static dev.cna.core.runtime.quant.Simd.R2;
import static dev.cna.core.runtime.quant.Simd.R4;
import static dev.cna.core.runtime.quant.Simd.R8;

/**
 * F32 rows (little-endian bytes, as in the GGUF file: 4L bytes reinterpreted as L floats), and the plain f32 dots
 * the batched path runs on decoded rows. Four accumulators hide the FMA latency; the last {@code n % L} values go
 * through the scalar tail.
 */
final class F32Kernels {
    private F32Kernels() {}

    private static final VarHandle FLOAT = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);

    /** dot(row of n f32 values at w[off], x[0..n)). */
    static float dot(byte[] w, int off, float[] x, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int k = 0;
        for (int end = n - 4 * L; k <= end; k += 4 * L) {
            int at = off + 4 * k;
            a0 = ((FloatVector) ByteVector.fromArray(B4, w, at).reinterpretShape(F, 0)).fma(FloatVector.fromArray(F, x, k), a0);
            a1 = ((FloatVector) ByteVector.fromArray(B4, w, at + 4 * L).reinterpretShape(F, 0)).fma(FloatVector.fromArray(F, x, k + L), a1);
            a2 = ((FloatVector) ByteVector.fromArray(B4, w, at + 8 * L).reinterpretShape(F, 0)).fma(FloatVector.fromArray(F, x, k + 2 * L), a2);
            a3 = ((FloatVector) ByteVector.fromArray(B4, w, at + 12 * L).reinterpretShape(F, 0)).fma(FloatVector.fromArray(F, x, k + 3 * L), a3);
        }
        for (int end = n - L; k <= end; k += L) {
            a0 = ((FloatVector) ByteVector.fromArray(B4, w, off + 4 * k).reinterpretShape(F, 0)).fma(FloatVector.fromArray(F, x, k), a0);
        }
        FloatVector lanes = a0.add(a1).add(a2.add(a3));
        if (L == 16) {
            lanes = lanes.add(lanes.rearrange(R8));
        }
        lanes = lanes.add(lanes.rearrange(R4));
        lanes = lanes.add(lanes.rearrange(R2));
        lanes = lanes.add(lanes.rearrange(R1));
        float sum = lanes.lane(0);
        for (; k < n; k++) {
            sum += (float) FLOAT.get(w, off + 4 * k) * x[k];
        }
        return sum;
    }

    static void decode(byte[] w, int off, float[] dst, int n) {
        int k = 0;
        for (int end = n - L; k <= end; k += L) {
            ((FloatVector) ByteVector.fromArray(B4, w, off + 4 * k).reinterpretShape(F, 0)).intoArray(dst, k);
        }
        for (; k < n; k++) {
            dst[k] = (float) FLOAT.get(w, off + 4 * k);
        }
    }

    /** dot(a[aOff..aOff+n), b[bOff..bOff+n)) of two float arrays. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int k = 0;
        for (int end = n - 4 * L; k <= end; k += 4 * L) {
            a0 = FloatVector.fromArray(F, a, aOff + k).fma(FloatVector.fromArray(F, b, bOff + k), a0);
            a1 = FloatVector.fromArray(F, a, aOff + k + L).fma(FloatVector.fromArray(F, b, bOff + k + L), a1);
            a2 = FloatVector.fromArray(F, a, aOff + k + 2 * L).fma(FloatVector.fromArray(F, b, bOff + k + 2 * L), a2);
            a3 = FloatVector.fromArray(F, a, aOff + k + 3 * L).fma(FloatVector.fromArray(F, b, bOff + k + 3 * L), a3);
        }
        for (int end = n - L; k <= end; k += L) {
            a0 = FloatVector.fromArray(F, a, aOff + k).fma(FloatVector.fromArray(F, b, bOff + k), a0);
        }
        FloatVector lanes = a0.add(a1).add(a2.add(a3));
        if (L == 16) {
            lanes = lanes.add(lanes.rearrange(R8));
        }
        lanes = lanes.add(lanes.rearrange(R4));
        lanes = lanes.add(lanes.rearrange(R2));
        lanes = lanes.add(lanes.rearrange(R1));
        float sum = lanes.lane(0);
        for (; k < n; k++) {
            sum += a[aOff + k] * b[bOff + k];
        }
        return sum;
    }

    /**
     * The batched step: one decoded row w[0..n) against every activation row, out[b][r] = dot(w, xs[b]). Four
     * activation rows at a time share each load of w.
     */
    static void dotBatch(float[] w, int n, float[][] xs, float[][] outs, int r) {
        int batch = xs.length;
        int b = 0;
        for (; b + 4 <= batch; b += 4) {
            float[] x0 = xs[b], x1 = xs[b + 1], x2 = xs[b + 2], x3 = xs[b + 3];
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int k = 0;
            for (int end = n - L; k <= end; k += L) {
                FloatVector wv = FloatVector.fromArray(F, w, k);
                a0 = wv.fma(FloatVector.fromArray(F, x0, k), a0);
                a1 = wv.fma(FloatVector.fromArray(F, x1, k), a1);
                a2 = wv.fma(FloatVector.fromArray(F, x2, k), a2);
                a3 = wv.fma(FloatVector.fromArray(F, x3, k), a3);
            }
            // the four lane sums in the fixed order of Simd.R8..R1, side by side
            if (L == 16) {
                a0 = a0.add(a0.rearrange(R8));
                a1 = a1.add(a1.rearrange(R8));
                a2 = a2.add(a2.rearrange(R8));
                a3 = a3.add(a3.rearrange(R8));
            }
            a0 = a0.add(a0.rearrange(R4));
            a1 = a1.add(a1.rearrange(R4));
            a2 = a2.add(a2.rearrange(R4));
            a3 = a3.add(a3.rearrange(R4));
            a0 = a0.add(a0.rearrange(R2));
            a1 = a1.add(a1.rearrange(R2));
            a2 = a2.add(a2.rearrange(R2));
            a3 = a3.add(a3.rearrange(R2));
            a0 = a0.add(a0.rearrange(R1));
            a1 = a1.add(a1.rearrange(R1));
            a2 = a2.add(a2.rearrange(R1));
            a3 = a3.add(a3.rearrange(R1));
            float s0 = a0.lane(0), s1 = a1.lane(0), s2 = a2.lane(0), s3 = a3.lane(0);
            for (; k < n; k++) {
                s0 += w[k] * x0[k];
                s1 += w[k] * x1[k];
                s2 += w[k] * x2[k];
                s3 += w[k] * x3[k];
            }
            outs[b][r] = s0;
            outs[b + 1][r] = s1;
            outs[b + 2][r] = s2;
            outs[b + 3][r] = s3;
        }
        for (; b < batch; b++) {
            outs[b][r] = dot(w, 0, xs[b], 0, n);
        }
    }

    /**
     * Four decoded rows ws[0..4)[0..n) against every activation row: outs[b][r + i] = dot(ws[i], xs[b]). Sixteen
     * accumulators (4 rows x 4 activation rows) so each vector load feeds four FMAs; the lanes of each are then
     * summed in a fixed order through a scratch array.
     */
    static void dotBatch4(float[][] ws, int n, float[][] xs, float[][] outs, int r) {
        float[] w0 = ws[0], w1 = ws[1], w2 = ws[2], w3 = ws[3];
        int batch = xs.length;
        float[] lanes = LANES.get();
        int b = 0;
        for (; b + 4 <= batch; b += 4) {
            float[] x0 = xs[b], x1 = xs[b + 1], x2 = xs[b + 2], x3 = xs[b + 3];
            FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
            FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            int k = 0;
            for (int end = n - L; k <= end; k += L) {
                FloatVector v0 = FloatVector.fromArray(F, x0, k);
                FloatVector v1 = FloatVector.fromArray(F, x1, k);
                FloatVector v2 = FloatVector.fromArray(F, x2, k);
                FloatVector v3 = FloatVector.fromArray(F, x3, k);
                FloatVector u = FloatVector.fromArray(F, w0, k);
                a00 = u.fma(v0, a00);
                a01 = u.fma(v1, a01);
                a02 = u.fma(v2, a02);
                a03 = u.fma(v3, a03);
                u = FloatVector.fromArray(F, w1, k);
                a10 = u.fma(v0, a10);
                a11 = u.fma(v1, a11);
                a12 = u.fma(v2, a12);
                a13 = u.fma(v3, a13);
                u = FloatVector.fromArray(F, w2, k);
                a20 = u.fma(v0, a20);
                a21 = u.fma(v1, a21);
                a22 = u.fma(v2, a22);
                a23 = u.fma(v3, a23);
                u = FloatVector.fromArray(F, w3, k);
                a30 = u.fma(v0, a30);
                a31 = u.fma(v1, a31);
                a32 = u.fma(v2, a32);
                a33 = u.fma(v3, a33);
            }
            // the sixteen lane sums in registers (Simd.P1..P4): a tree of merges, 4 vector ops each
            FloatVector m0 = a00.blend(a01, K1).add(a01.blend(a00, K1).rearrange(P1));
            FloatVector m1 = a02.blend(a03, K1).add(a03.blend(a02, K1).rearrange(P1));
            FloatVector m2 = a10.blend(a11, K1).add(a11.blend(a10, K1).rearrange(P1));
            FloatVector m3 = a12.blend(a13, K1).add(a13.blend(a12, K1).rearrange(P1));
            FloatVector m4 = a20.blend(a21, K1).add(a21.blend(a20, K1).rearrange(P1));
            FloatVector m5 = a22.blend(a23, K1).add(a23.blend(a22, K1).rearrange(P1));
            FloatVector m6 = a30.blend(a31, K1).add(a31.blend(a30, K1).rearrange(P1));
            FloatVector m7 = a32.blend(a33, K1).add(a33.blend(a32, K1).rearrange(P1));
            m0 = m0.blend(m1, K2).add(m1.blend(m0, K2).rearrange(P2));
            m2 = m2.blend(m3, K2).add(m3.blend(m2, K2).rearrange(P2));
            m4 = m4.blend(m5, K2).add(m5.blend(m4, K2).rearrange(P2));
            m6 = m6.blend(m7, K2).add(m7.blend(m6, K2).rearrange(P2));
            m0 = m0.blend(m2, K3).add(m2.blend(m0, K3).rearrange(P3));
            m4 = m4.blend(m6, K3).add(m6.blend(m4, K3).rearrange(P3));
            if (L == 16) {
                m0.blend(m4, K4).add(m4.blend(m0, K4).rearrange(P4)).intoArray(lanes, 0);
            } else {
                m0.intoArray(lanes, 0);
                m4.intoArray(lanes, L);
            }
            for (int i = 0; i < 4; i++) {
                float[] w = ws[i];
                for (int j = 0; j < 4; j++) {
                    float sum = lanes[LANE_OF[4 * i + j]];
                    float[] x = xs[b + j];
                    for (int t = k; t < n; t++) {
                        sum += w[t] * x[t];
                    }
                    outs[b + j][r + i] = sum;
                }
            }
        }
        for (; b < batch; b++) {
            for (int i = 0; i < 4; i++) {
                outs[b][r + i] = dot(ws[i], 0, xs[b], 0, n);
            }
        }
    }

    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[16]);
    /** Where the tree in dotBatch4 leaves accumulator 4i + j: its lanes are merged in pairs, a level per bit. */
    private static final int[] LANE_OF = laneOf();

    /** Replays dotBatch4's merges on labels: the result lane (or lane of the second vector, + L) of each input. */
    private static int[] laneOf() {
        int[][] v = new int[16][L];
        for (int a = 0; a < 16; a++) {
            java.util.Arrays.fill(v[a], a);
        }
        int count = 16;
        for (int d = L / 2; d >= 1 && count > 1; d /= 2) {
            for (int p = 0; p < count / 2; p++) {
                int[] merged = new int[L];
                for (int i = 0; i < L; i++) {
                    merged[i] = (i & d) == 0 ? v[2 * p][i] : v[2 * p + 1][i];
                }
                v[p] = merged;
            }
            count /= 2;
        }
        int[] lane = new int[16];
        for (int c = 0; c < count; c++) {
            for (int i = 0; i < L; i++) {
                lane[v[c][i]] = c * L + i;
            }
        }
        return lane;
    }
}
