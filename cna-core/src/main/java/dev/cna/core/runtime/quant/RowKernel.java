package dev.cna.core.runtime.quant;

import dev.cna.core.model.gguf.GgmlType;

import java.nio.ByteBuffer;

/**
 * The per-type entry into the kernels: rows of one matrix (all {@code cols} long) at w[off], w[off + rowBytes], ...
 *
 * <p>One subclass per type, called through these virtual methods, on purpose: a {@code switch} over the type in
 * QuantizedMatrix let C2 inline every kernel it had seen run into the one method, and past a few types that
 * method ran out of inlining budget and left Vector API intrinsics out (vectors boxed on the heap, 10-15x slower
 * batches on JDK 17). A virtual call site that has seen three or more types is not inlined, so each kernel stays
 * its own compilation; with one or two types it is inlined, which is small enough.
 */
abstract class RowKernel {
    final int cols;

    RowKernel(int cols) {
        this.cols = cols;
    }

    /**
     * out[r0 + i] = dot(row i, x) for i < n, the rows at w[off], w[off + rowBytes], ... being the matrix's rows r0,
     * r0 + 1, ...; xs are x's sums per 32 (16 for Q6_K) values, or null if unused.
     */
    abstract void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0);

    /** The row at w[off] as f32 values in dst[0..cols), bit for bit what Dequantizer gives. */
    abstract void decodeRow(byte[] w, int off, float[] dst);

    /**
     * outs[b][r0 + i] = dot(row i, xs[b]): rows decoded once each, four at a time into {@code rows} (four arrays
     * of at least cols floats), then dotted with every xs[b], four activation rows at a time, so each vector load
     * feeds four FMAs.
     */
    final void batchRows(byte[] w, int off, int rowBytes, int n, float[][] rows, float[][] xs, float[][] outs, int r0) {
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            for (int j = 0; j < 4; j++) {
                decodeRow(w, off + (i + j) * rowBytes, rows[j]);
            }
            F32Kernels.dotBatch4(rows, cols, xs, outs, r0 + i);
        }
        for (; i < n; i++) {
            decodeRow(w, off + i * rowBytes, rows[0]);
            F32Kernels.dotBatch(rows[0], cols, xs, outs, r0 + i);
        }
    }

    /**
     * @param data the matrix's rows * cols values of the type from index 0, read here only by Q6_K, whose kernel
     *             decodes its group scales into a table once ({@link Q6KKernels#scaleTable})
     */
    static RowKernel of(GgmlType type, int rows, int cols, ByteBuffer data) {
        return switch (type) {
            case F32 -> new RowKernel(cols) {
                @Override
                void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0) {
                    for (int i = 0; i < n; i++) {
                        out[r0 + i] = F32Kernels.dot(w, off + i * rowBytes, x, cols);
                    }
                }

                @Override
                void decodeRow(byte[] w, int off, float[] dst) {
                    F32Kernels.decode(w, off, dst, cols);
                }
            };
            case F16 -> new RowKernel(cols) {
                @Override
                void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0) {
                    for (int i = 0; i < n; i++) {
                        out[r0 + i] = F16Kernels.dot(w, off + i * rowBytes, x, cols);
                    }
                }

                @Override
                void decodeRow(byte[] w, int off, float[] dst) {
                    F16Kernels.decode(w, off, dst, cols);
                }
            };
            case BF16 -> new RowKernel(cols) {
                @Override
                void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0) {
                    for (int i = 0; i < n; i++) {
                        out[r0 + i] = BF16Kernels.dot(w, off + i * rowBytes, x, cols);
                    }
                }

                @Override
                void decodeRow(byte[] w, int off, float[] dst) {
                    BF16Kernels.decode(w, off, dst, cols);
                }
            };
            case Q8_0 -> new RowKernel(cols) {
                @Override
                void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0) {
                    Q8_0Kernels.dotRows(w, off, rowBytes, n, x, out, r0);
                }

                @Override
                void decodeRow(byte[] w, int off, float[] dst) {
                    Q8_0Kernels.decode(w, off, dst, cols);
                }
            };
            case Q4_0 -> new RowKernel(cols) {
                @Override
                void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0) {
                    Q4_0Kernels.dotRows(w, off, rowBytes, n, x, xs, out, r0);
                }

                @Override
                void decodeRow(byte[] w, int off, float[] dst) {
                    Q4_0Kernels.decode(w, off, dst, cols);
                }
            };
            case Q4_1 -> new RowKernel(cols) {
                @Override
                void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0) {
                    Q4_1Kernels.dotRows(w, off, rowBytes, n, x, xs, out, r0);
                }

                @Override
                void decodeRow(byte[] w, int off, float[] dst) {
                    Q4_1Kernels.decode(w, off, dst, cols);
                }
            };
            case Q5_0 -> new RowKernel(cols) {
                @Override
                void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0) {
                    for (int i = 0; i < n; i++) {
                        out[r0 + i] = Q5_0Kernels.dot(w, off + i * rowBytes, x, xs, cols);
                    }
                }

                @Override
                void decodeRow(byte[] w, int off, float[] dst) {
                    Q5_0Kernels.decode(w, off, dst, cols);
                }
            };
            case Q5_1 -> new RowKernel(cols) {
                @Override
                void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0) {
                    for (int i = 0; i < n; i++) {
                        out[r0 + i] = Q5_1Kernels.dot(w, off + i * rowBytes, x, xs, cols);
                    }
                }

                @Override
                void decodeRow(byte[] w, int off, float[] dst) {
                    Q5_1Kernels.decode(w, off, dst, cols);
                }
            };
            case Q4_K -> new RowKernel(cols) {
                @Override
                void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0) {
                    for (int i = 0; i < n; i++) {
                        out[r0 + i] = Q4KKernels.dot(w, off + i * rowBytes, x, xs, cols);
                    }
                }

                @Override
                void decodeRow(byte[] w, int off, float[] dst) {
                    Q4KKernels.decode(w, off, dst, cols);
                }
            };
            case Q5_K -> new RowKernel(cols) {
                @Override
                void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0) {
                    for (int i = 0; i < n; i++) {
                        out[r0 + i] = Q5KKernels.dot(w, off + i * rowBytes, x, xs, cols);
                    }
                }

                @Override
                void decodeRow(byte[] w, int off, float[] dst) {
                    Q5KKernels.decode(w, off, dst, cols);
                }
            };
            case Q6_K -> new RowKernel(cols) {
                private final float[] scales = Q6KKernels.scaleTable(data, rows, cols);

                @Override
                void dotRows(byte[] w, int off, int rowBytes, int n, float[] x, float[] xs, float[] out, int r0) {
                    for (int i = 0; i < n; i++) {
                        int s = (r0 + i) * (cols / 16);
                        out[r0 + i] = Q6KKernels.dot(w, off + i * rowBytes, x, cols, scales, s)
                                - Q6KKernels.offset(scales, s, xs, cols);
                    }
                }

                @Override
                void decodeRow(byte[] w, int off, float[] dst) {
                    Q6KKernels.decode(w, off, dst, cols);
                }
            };
            default -> throw new UnsupportedOperationException("no kernel for " + type);
        };
    }
}
