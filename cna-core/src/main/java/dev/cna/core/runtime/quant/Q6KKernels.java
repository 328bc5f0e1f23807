package dev.cna.core.runtime.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.nio.ByteBuffer;

import static dev.cna.core.runtime.quant.Simd.B1;
import static dev.cna.core.runtime.quant.Simd.F;
import static dev.cna.core.runtime.quant.Simd.I;
import static dev.cna.core.runtime.quant.Simd.L;
import static dev.cna.core.runtime.quant.Simd.R1;
import static dev.cna.core.runtime.quant.Simd.R2;
import static dev.cna.core.runtime.quant.Simd.R4;
import static dev.cna.core.runtime.quant.Simd.R8;
import static dev.cna.core.runtime.quant.Simd.half;

/**
 * Q6_K (block_q6_K, 210 bytes per 256 values): 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits), 16 int8
 * scales (one per 16 values), f16 d. Each half of 128 values reads ql[64h..], qh[32h..], scales[8h..]: for l in
 * 0..31, the four values l, l+32, l+64, l+96 take the low or high nibble of ql[l] / ql[l+32] and bit pairs 0-1,
 * 2-3, 4-5, 6-7 of qh[l]. Value = (d * sc) * (q - 32). The dot is sum over groups of 16 of (d * sc) * (sum q*x -
 * 32 * sum x), with the sums of x per 16 values precomputed ({@code xs}) and each group's d * sc decoded once per
 * matrix ({@link #scaleTable}).
 */
final class Q6KKernels {
    private Q6KKernels() {}

    static final int BYTES = 210;

    /**
     * d * sc of each group of 16 values of every row, decoded once when the matrix is made: per row n / 16 floats,
     * 0.25 bytes per weight beside the blocks' 0.82 (+30%). The dot then loads one float per group instead of
     * converting the int8 scale and multiplying it by the block's f16 d, and the -32 term is one short vector dot
     * per row instead of 16 scalar multiply-adds per block: Q6_K matVec ~17 -> ~27 GFLOP/s (KernelBench 1536x8960,
     * 1 thread). Q4_K got the same table (14-32% faster) but not kept: 0.25 bytes per weight beside its 0.56 put
     * Qwen2.5-Coder-1.5B's memory probe at 2.29 GiB (target 2.5 GB); off the heap the table's reads were slower.
     *
     * @param data rows * n / 256 blocks from index 0
     * @return [rows][n / 16] flattened
     */
    static float[] scaleTable(ByteBuffer data, int rows, int n) {
        int blocks = n / 256;
        float[] table = new float[Math.multiplyExact(rows, n / 16)];
        byte[] row = new byte[blocks * BYTES];
        for (int r = 0; r < rows; r++) {
            data.get(r * row.length, row, 0, row.length);
            for (int b = 0; b < blocks; b++) {
                int at = b * BYTES;
                float d = half(row, at + 208);
                for (int j = 0; j < 16; j++) {
                    table[r * (n / 16) + 16 * b + j] = d * row[at + 192 + j];
                }
            }
        }
        return table;
    }

    /**
     * The dot of the row at w[off] with x, its groups' d * sc at table[s] ({@link #scaleTable}), but for the -32 of
     * every value: the caller subtracts {@link #offset}.
     */
    static float dot(byte[] w, int off, float[] x, int n, float[] table, int s) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0, blocks = n / 256; b < blocks; b++) {
            int at = off + b * BYTES;
            // Not used, on purpose: without this read C2 (JDK 17.0.15) left the loop's castShape un-intrinsified,
            // 2.5 instead of 29 GFLOP/s (KernelBench Q6_K 1536x8960); the same loop with it compiles to vectors.
            float unused = half(w, at + 208);
            for (int half = 0; half < 2; half++) {
                int ql = at + 64 * half;
                int qh = at + 128 + 32 * half;
                int sc = at + 192 + 8 * half;
                int y = b * 256 + 128 * half;
                for (int l = 0; l < 32; l += L) {
                    int is = sc + l / 16;
                    IntVector a = (IntVector) ByteVector.fromArray(B1, w, ql + l).castShape(I, 0);
                    IntVector c = (IntVector) ByteVector.fromArray(B1, w, ql + 32 + l).castShape(I, 0);
                    IntVector h = (IntVector) ByteVector.fromArray(B1, w, qh + l).castShape(I, 0);
                    // q1: low nibble of ql[l], bits 0-1 of qh[l]; q2: low nibble of ql[l+32], bits 2-3;
                    // q3: high nibble of ql[l], bits 4-5; q4: high nibble of ql[l+32], bits 6-7 (0..63, before -32)
                    IntVector q1 = a.and(0x0F).or(h.lanewise(VectorOperators.LSHL, 4).and(0x30));
                    IntVector q2 = c.and(0x0F).or(h.lanewise(VectorOperators.LSHL, 2).and(0x30));
                    IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(h.and(0x30));
                    IntVector q4 = c.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(h.lanewise(VectorOperators.LSHR, 2).and(0x30));
                    a0 = ((FloatVector) q1.castShape(F, 0)).mul(FloatVector.fromArray(F, x, y + l))
                            .fma(FloatVector.broadcast(F, table[s + 16 * b + 8 * half + l / 16]), a0);
                    a1 = ((FloatVector) q2.castShape(F, 0)).mul(FloatVector.fromArray(F, x, y + 32 + l))
                            .fma(FloatVector.broadcast(F, table[s + 16 * b + 8 * half + l / 16 + 2]), a1);
                    a2 = ((FloatVector) q3.castShape(F, 0)).mul(FloatVector.fromArray(F, x, y + 64 + l))
                            .fma(FloatVector.broadcast(F, table[s + 16 * b + 8 * half + l / 16 + 4]), a2);
                    a3 = ((FloatVector) q4.castShape(F, 0)).mul(FloatVector.fromArray(F, x, y + 96 + l))
                            .fma(FloatVector.broadcast(F, table[s + 16 * b + 8 * half + l / 16 + 6]), a3);
                }
            }
        }
        FloatVector sum = a0.add(a1).add(a2.add(a3));
        if (L == 16) {
            sum = sum.add(sum.rearrange(R8));
        }
        sum = sum.add(sum.rearrange(R4));
        sum = sum.add(sum.rearrange(R2));
        sum = sum.add(sum.rearrange(R1));
        return sum.lane(0);
    }

    /** 32 times the sum over the row's groups of d * sc times the group's sum of x: what {@link #dot} leaves out. */
    static float offset(float[] table, int s, float[] xs, int n) {
        return 32 * F32Kernels.dot(table, s, xs, 0, n / 16);
    }

    /**
     * Row w[off..] decoded into dst[0..n), values (d * sc) * (q - 32). In two passes over the row, each a method of its
     * own: the low-nibble values (l, l + 32 of each half block), then the high-nibble ones (l + 64, l + 96). With all
     * four in one method, C2 (JDK 17) left its last conversions and stores on the Vector API's Java fallback in some
     * runs once other kernels had run (a graph too large to inline all of it, we think; see Simd): KernelBench Q6_K
     * batch 16 after F32/F16/BF16 at ~50 instead of ~120 GFLOP/s in 3 runs of 6, and in a Qwen2.5-1.5B 16-row step
     * (JFR) 4.5% of all samples in the fallback. Split, 15 runs of 15 were fast. The two loops stay apart on purpose:
     * one method with both would be the large graph again.
     */
    static void decode(byte[] w, int off, float[] dst, int n) {
        decodeLow(w, off, dst, n);
        decodeHigh(w, off, dst, n);
    }

    private static void decodeLow(byte[] w, int off, float[] dst, int n) {
        for (int b = 0, blocks = n / 256; b < blocks; b++) {
            int at = off + b * BYTES;
            float d = half(w, at + 208);
            for (int half = 0; half < 2; half++) {
                int ql = at + 64 * half;
                int qh = at + 128 + 32 * half;
                int sc = at + 192 + 8 * half;
                int y = b * 256 + 128 * half;
                for (int l = 0; l < 32; l += L) {
                    int is = sc + l / 16;
                    IntVector a = (IntVector) ByteVector.fromArray(B1, w, ql + l).castShape(I, 0);
                    IntVector c = (IntVector) ByteVector.fromArray(B1, w, ql + 32 + l).castShape(I, 0);
                    IntVector h = (IntVector) ByteVector.fromArray(B1, w, qh + l).castShape(I, 0);
                    IntVector q1 = a.and(0x0F).or(h.lanewise(VectorOperators.LSHL, 4).and(0x30));
                    IntVector q2 = c.and(0x0F).or(h.lanewise(VectorOperators.LSHL, 2).and(0x30));
                    ((FloatVector) q1.sub(32).castShape(F, 0)).mul(d * w[is]).intoArray(dst, y + l);
                    ((FloatVector) q2.sub(32).castShape(F, 0)).mul(d * w[is + 2]).intoArray(dst, y + 32 + l);
                }
            }
        }
    }

    private static void decodeHigh(byte[] w, int off, float[] dst, int n) {
        for (int b = 0, blocks = n / 256; b < blocks; b++) {
            int at = off + b * BYTES;
            float d = half(w, at + 208);
            for (int half = 0; half < 2; half++) {
                int ql = at + 64 * half;
                int qh = at + 128 + 32 * half;
                int sc = at + 192 + 8 * half;
                int y = b * 256 + 128 * half;
                for (int l = 0; l < 32; l += L) {
                    int is = sc + l / 16;
                    IntVector a = (IntVector) ByteVector.fromArray(B1, w, ql + l).castShape(I, 0);
                    IntVector c = (IntVector) ByteVector.fromArray(B1, w, ql + 32 + l).castShape(I, 0);
                    IntVector h = (IntVector) ByteVector.fromArray(B1, w, qh + l).castShape(I, 0);
                    IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(h.and(0x30));
                    IntVector q4 = c.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(h.lanewise(VectorOperators.LSHR, 2).and(0x30));
                    ((FloatVector) q3.sub(32).castShape(F, 0)).mul(d * w[is + 4]).intoArray(dst, y + 64 + l);
                    ((FloatVector) q4.sub(32).castShape(F, 0)).mul(d * w[is + 6]).intoArray(dst, y + 96 + l);
                }
            }
        }
    }
}
