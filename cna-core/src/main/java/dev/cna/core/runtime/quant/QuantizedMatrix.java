package dev.cna.core.runtime.quant;

import dev.cna.core.model.ModelFormatException;
import dev.cna.core.model.RawTensor;
import dev.cna.core.model.gguf.Dequantizer;
import dev.cna.core.model.gguf.GgmlType;
import dev.cna.core.model.gguf.GgufFile;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * A weight matrix of {@code rows} (outputs) by {@code cols} (inputs) kept in its GGUF block layout: the bytes are
 * a slice of the memory-mapped file (or any little-endian buffer), never expanded to f32. Row r is {@code cols}
 * values, {@code cols / blockSize} consecutive blocks, the way ggml stores a 2-D tensor with ne[0] = cols.
 *
 * <p>{@link #matVec} computes out[r] = dot(row r, x) with one small SIMD kernel per type (Q4KKernels.dot, ...)
 * that decodes each block into float lanes and multiplies it with the f32 activations directly. {@link #matMul}
 * does the same for a batch of activation rows but decodes each weight row once, into an L1-sized f32 row, and
 * dots it with every activation row, so each weight block is read from memory once per batch. The parallel
 * variants split the output rows over a team of threads ({@link Workers}).
 *
 * <p>Rows are copied from a direct or mapped buffer into a per-thread byte[] in tiles of about 16 KiB before the
 * kernels read them: the Java 17 Vector API loads from arrays and ByteBuffers, and its ByteBuffer loads are gone
 * from later JDKs (replaced by MemorySegment), so arrays are the one load that runs on both. A heap buffer's
 * array is read in place.
 *
 * <p>The kernels use jdk.incubator.vector; without {@code --add-modules jdk.incubator.vector} (or with
 * {@code -Dcna.quant.simd=false}, or a vector shape other than 256 or 512 bits) every product runs on a scalar
 * path (rows dequantized by {@link Dequantizer}, then a plain dot), with the same results to rounding.
 *
 * <p>Instances are immutable and safe to share between threads.
 */
public final class QuantizedMatrix {
    private static final Set<GgmlType> SUPPORTED = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16,
            GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
            GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);
    /** Whether the Vector API kernels run; false leaves everything on the scalar path. */
    private static final boolean SIMD = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && simdEnabled();
    /** Bytes of weight rows copied into a thread's scratch at a time: a tile stays in L1 while the kernel reads it. */
    private static final int TILE_BYTES = 16 << 10;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final GgmlType type;
    private final int rows;
    private final int cols;
    private final int rowBytes;
    private final ByteBuffer data;
    /** The buffer's backing array when it has one (read in place), else null (rows are copied in tiles). */
    private final byte[] heap;
    private final int heapOffset;
    /** Values per precomputed activation sum (32, 16 for Q6_K), or 0 when the type's dot needs none. */
    private final int sumGroup;
    /** SIMD, unless this instance was made for the scalar path ({@link #scalar}). */
    private final boolean simd;
    /** The type's kernels (null on the scalar path). */
    private final RowKernel kernel;

    private QuantizedMatrix(GgmlType type, int rows, int cols, ByteBuffer data, boolean simd) {
        this.simd = simd;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = Math.toIntExact(type.bytesFor(cols));
        this.data = data;
        this.heap = data.hasArray() ? data.array() : null;
        this.heapOffset = data.hasArray() ? data.arrayOffset() : 0;
        this.sumGroup = switch (type) {
            case Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K -> 32;
            case Q6_K -> 16;
            default -> 0;
        };
        this.kernel = simd ? RowKernel.of(type, rows, cols, data) : null;
    }

    /**
     * A matrix over {@code data}: rows * cols values of {@code type}, little-endian blocks from the buffer's index 0
     * (its position and limit are ignored; the buffer is not copied and must not change).
     */
    public static QuantizedMatrix of(GgmlType type, int rows, int cols, ByteBuffer data) {
        return create(type, rows, cols, data, SIMD);
    }

    /** The same matrix on the scalar path whatever the JVM supports: the fallback, for tests and benchmarks. */
    static QuantizedMatrix scalar(GgmlType type, int rows, int cols, ByteBuffer data) {
        return create(type, rows, cols, data, false);
    }

    private static QuantizedMatrix create(GgmlType type, int rows, int cols, ByteBuffer data, boolean simd) {
        Objects.requireNonNull(type, "type");
        if (!SUPPORTED.contains(type)) {
            throw new UnsupportedOperationException("tensor type " + type + " has no kernel (supported: " + SUPPORTED + ")");
        }
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("matrix of " + rows + " x " + cols);
        }
        if (cols % type.blockSize != 0) {
            throw new IllegalArgumentException("row length " + cols + " is not a multiple of the " + type
                    + " block size " + type.blockSize);
        }
        long bytes = (long) rows * type.bytesFor(cols);
        ByteBuffer view = data.duplicate().clear().order(ByteOrder.LITTLE_ENDIAN);
        if (bytes > view.capacity()) {
            throw new IllegalArgumentException(rows + " x " + cols + " " + type + " needs " + bytes
                    + " bytes, the buffer has " + view.capacity());
        }
        return new QuantizedMatrix(type, rows, cols, view, simd);
    }

    /**
     * A tensor of a GGUF file, mapped (not loaded): ne[0] is the row length (cols), the other dimensions multiply
     * to rows (a 1-D tensor is one row).
     */
    public static QuantizedMatrix of(GgufFile file, GgufFile.TensorInfo tensor) {
        long[] dims = tensor.dims();
        long rows = 1;
        for (int i = 1; i < dims.length; i++) {
            rows *= dims[i];
        }
        if (!SUPPORTED.contains(tensor.type())) {
            throw new ModelFormatException(file.path(), tensor.name(), "tensor type " + tensor.type() + " has no kernel");
        }
        if (dims[0] % tensor.type().blockSize != 0 || rows > Integer.MAX_VALUE || dims[0] > Integer.MAX_VALUE) {
            throw new ModelFormatException(file.path(), tensor.name(), "shape " + java.util.Arrays.toString(dims)
                    + " is not a matrix of whole " + tensor.type() + " blocks");
        }
        return of(tensor.type(), (int) rows, (int) dims[0], file.rawData(tensor));
    }

    /**
     * A tensor as a file stores it (GGUF blocks, safetensors values), not copied.
     *
     * @throws ModelFormatException naming the file and tensor when its type has no kernel or its rows are not whole
     *                              blocks
     */
    public static QuantizedMatrix of(RawTensor t) {
        if (!SUPPORTED.contains(t.type())) {
            throw new ModelFormatException(t.file(), t.name(), "tensor type " + t.type() + " has no kernel (supported: "
                    + SUPPORTED + ")");
        }
        if (t.cols() % t.type().blockSize != 0) {
            throw new ModelFormatException(t.file(), t.name(), "rows of " + t.cols() + " values are not whole "
                    + t.type() + " blocks of " + t.type().blockSize);
        }
        try {
            return of(t.type(), t.rows(), t.cols(), t.data());
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(t.file(), t.name(), e.getMessage(), e);
        }
    }

    public static QuantizedMatrix of(GgufFile file, String tensorName) {
        GgufFile.TensorInfo t = file.tensors().get(tensorName);
        if (t == null) {
            throw new ModelFormatException(file.path(), tensorName, "tensor not found");
        }
        return of(file, t);
    }

    public static boolean supports(GgmlType type) {
        return SUPPORTED.contains(type);
    }

    /** Whether products run on the Vector API kernels (else on the scalar path), and with how many float lanes. */
    public static String backend() {
        return SIMD ? "vector " + Simd.BITS + "-bit (" + Simd.L + " float lanes)" : "scalar";
    }

    public static boolean vectorized() {
        return SIMD;
    }

    public GgmlType type() { return type; }

    public int rows() { return rows; }

    public int cols() { return cols; }

    /** Bytes of weights: what one matVec reads. */
    public long bytes() { return (long) rows * rowBytes; }

    /** The blocks, read-only, little-endian, row 0 at index 0. */
    public ByteBuffer data() {
        return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Row r dequantized into dst[0..cols) (an embedding lookup), exactly as Dequantizer computes it. */
    public void row(int r, float[] dst) {
        Objects.checkIndex(r, rows);
        if (dst.length < cols) {
            throw new IllegalArgumentException("dst has " + dst.length + " values, a row has " + cols);
        }
        float[] values = dst.length == cols ? dst : new float[cols];
        decodeScalar(r, values);
        if (values != dst) {
            System.arraycopy(values, 0, dst, 0, cols);
        }
    }

    // ---- products ----

    /** out[r] = dot(row r, x) for every row; x has cols values, out rows. */
    public void matVec(float[] x, float[] out) {
        checkVec(x, out);
        rowsVec(x, sums(x), out, 0, rows);
    }

    /** {@link #matVec}, the rows split over the workers. */
    public void matVecParallel(float[] x, float[] out, Workers workers) {
        checkVec(x, out);
        float[] xs = sums(x);
        workers.split(rows, grain(workers), (lo, hi) -> rowsVec(x, xs, out, lo, hi));
    }

    /**
     * outs[b][r] = dot(row r, xs[b]) for a batch of activation rows: each weight row is decoded once and dotted with
     * every xs[b]. A batch of one is {@link #matVec}.
     */
    public void matMul(float[][] xs, float[][] outs) {
        checkBatch(xs, outs);
        if (xs.length == 1) {
            matVec(xs[0], outs[0]);
            return;
        }
        rowsBatch(xs, outs, 0, rows);
    }

    /** {@link #matMul}, the rows split over the workers. */
    public void matMulParallel(float[][] xs, float[][] outs, Workers workers) {
        checkBatch(xs, outs);
        if (xs.length == 1) {
            matVecParallel(xs[0], outs[0], workers);
            return;
        }
        workers.split(rows, grain(workers), (lo, hi) -> rowsBatch(xs, outs, lo, hi));
    }

    /**
     * Activation rows prepared for {@link #matMulRows}: with one row, x's sums per block (what the kernels of types with
     * an offset or min term need) are computed here once, not by every task of a split.
     *
     * @param xs    the activation rows, cols values each
     * @param sums  x's sums per block when xs has one row and the type needs them, else null
     */
    public record Input(float[][] xs, float[] sums) {}

    /** xs ready for {@link #matMulRows}; the arrays are not copied and must not change while it is used. */
    public Input input(float[][] xs) {
        return new Input(xs, xs.length == 1 ? sums(xs[0]) : null);
    }

    /**
     * Output rows [lo, hi) of {@link #matMul} (or {@link #matVec} for a batch of one): for callers that split the rows
     * of several matrices over their own threads.
     */
    public void matMulRows(Input in, float[][] outs, int lo, int hi) {
        float[][] xs = in.xs();
        checkBatch(xs, outs);
        Objects.checkFromToIndex(lo, hi, rows);
        if (xs.length == 1) {
            rowsVec(xs[0], in.sums(), outs[0], lo, hi);
        } else {
            rowsBatch(xs, outs, lo, hi);
        }
    }

    private void rowsVec(float[] x, float[] xs, float[] out, int lo, int hi) {
        if (!simd) {
            float[] w = new float[cols];
            for (int r = lo; r < hi; r++) {
                decodeScalar(r, w);
                out[r] = dotScalar(w, x, cols);
            }
            return;
        }
        if (heap != null) {
            kernel.dotRows(heap, heapOffset + lo * rowBytes, rowBytes, hi - lo, x, xs, out, lo);
            return;
        }
        int tileRows = tileRows(2);
        byte[] tile = SCRATCH.get().bytes(tileRows * rowBytes);
        for (int r0 = lo; r0 < hi; r0 += tileRows) {
            int n = Math.min(tileRows, hi - r0);
            data.get(r0 * rowBytes, tile, 0, n * rowBytes);
            kernel.dotRows(tile, 0, rowBytes, n, x, xs, out, r0);
        }
    }

    private void rowsBatch(float[][] xs, float[][] outs, int lo, int hi) {
        if (!simd) {
            float[] w = new float[cols];
            for (int r = lo; r < hi; r++) {
                decodeScalar(r, w);
                for (int b = 0; b < xs.length; b++) {
                    outs[b][r] = dotScalar(w, xs[b], cols);
                }
            }
            return;
        }
        Scratch s = SCRATCH.get();
        float[][] w = s.rows(cols);
        if (heap != null) {
            kernel.batchRows(heap, heapOffset + lo * rowBytes, rowBytes, hi - lo, w, xs, outs, lo);
            return;
        }
        int tileRows = tileRows(4);
        byte[] tile = s.bytes(tileRows * rowBytes);
        for (int r0 = lo; r0 < hi; r0 += tileRows) {
            int n = Math.min(tileRows, hi - r0);
            data.get(r0 * rowBytes, tile, 0, n * rowBytes);
            kernel.batchRows(tile, 0, rowBytes, n, w, xs, outs, r0);
        }
    }

    private float[] sums(float[] x) {
        return simd && sumGroup > 0 ? Simd.groupSums(x, cols, sumGroup) : null;
    }

    // ---- the scalar path (no Vector API) ----

    private void decodeScalar(int r, float[] dst) {
        Dequantizer.dequantize(type, data.slice(r * rowBytes, rowBytes).order(ByteOrder.LITTLE_ENDIAN), dst);
    }

    private static float dotScalar(float[] w, float[] x, int n) {
        float sum = 0;
        for (int k = 0; k < n; k++) {
            sum += w[k] * x[k];
        }
        return sum;
    }

    // ---- checks, splitting, scratch ----

    private void checkVec(float[] x, float[] out) {
        if (x.length != cols || out.length != rows) {
            throw new IllegalArgumentException("matVec of a " + rows + " x " + cols + " matrix needs x[" + cols
                    + "] and out[" + rows + "], got x[" + x.length + "] and out[" + out.length + "]");
        }
    }

    private void checkBatch(float[][] xs, float[][] outs) {
        if (xs.length == 0 || xs.length != outs.length) {
            throw new IllegalArgumentException("matMul needs as many output rows as activation rows (at least one), got "
                    + xs.length + " and " + outs.length);
        }
        for (int b = 0; b < xs.length; b++) {
            checkVec(xs[b], outs[b]);
        }
    }

    /**
     * Rows of one tile: about 16 KiB of weights, a multiple of {@code group} (the matVec kernels take rows two at a
     * time and do an odd last one twice; the batched kernel decodes four at a time, a rest of 1-3 rows taking its
     * slower one-row path: with Qwen2.5-1.5B's 18-row tiles that was 12% of its 16-row decode).
     */
    private int tileRows(int group) {
        return Math.max(group, TILE_BYTES / rowBytes / group * group);
    }

    /** The least rows a task gets: about four tasks per thread, whole tiles of either kernel. */
    private int grain(Workers workers) {
        int tileRows = tileRows(4);
        int perTask = -Math.floorDiv(-rows, 4 * workers.parallelism());
        return Math.max(tileRows, -Math.floorDiv(-perTask, tileRows) * tileRows);
    }

    /** A thread's scratch: a tile of weight rows and four decoded rows, grown as needed and reused. */
    private static final class Scratch {
        private byte[] bytes = new byte[0];
        private float[][] rows = new float[4][0];

        byte[] bytes(int n) {
            if (bytes.length < n) {
                bytes = new byte[n];
            }
            return bytes;
        }

        float[][] rows(int n) {
            if (rows[0].length < n) {
                rows = new float[4][n];
            }
            return rows;
        }
    }

    private static boolean simdEnabled() {
        return Simd.ENABLED;
    }
}
