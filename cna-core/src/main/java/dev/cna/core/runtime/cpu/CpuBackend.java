package dev.cna.core.runtime.cpu;

import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.TensorNames;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.KvCache;
import dev.cna.core.runtime.MlpHook;
import dev.cna.core.runtime.Rope;
import dev.cna.core.runtime.quant.FloatVectors;
import dev.cna.core.runtime.quant.QuantizedMatrix;
import dev.cna.core.runtime.quant.Workers;

import java.util.function.BooleanSupplier;

/**
 * The quantized CPU backend: every projection stays in the file's layout (GGUF blocks such as Q4_K or Q8_0, or
 * safetensors F32/F16/BF16 values), memory-mapped, and is multiplied on those blocks by {@link QuantizedMatrix}'s
 * Vector API kernels; nothing is expanded to f32. Activations, the KV cache and the attention are f32 on the Java
 * heap. One forward pass, top to bottom, in {@link #pass}: tokens of all rows stacked (padding skipped), then per
 * layer RMSNorm, q/k/v, rope, the cache, attention per (token, head), output projection, RMSNorm, gate/up, SwiGLU,
 * the hook, down projection. Matrix products split their output rows over a team of threads (Workers); attention splits
 * (token, head) pairs.
 *
 * <p>Arithmetic is f32 on exactly dequantized weights, so it follows the torch backend's {@code EXACT} numerics
 * to float rounding (summation order differs); llama.cpp's 8-bit activation rounding is not reproduced.
 */
public final class CpuBackend extends Backend {
    /** One decoder layer's weights: projections in their stored form, norms and biases in f32. */
    private record Layer(float[] attnNorm, QuantizedMatrix q, QuantizedMatrix k, QuantizedMatrix v,
                         float[] qBias, float[] kBias, float[] vBias, QuantizedMatrix attnOutput,
                         float[] ffnNorm, QuantizedMatrix gate, QuantizedMatrix up, QuantizedMatrix down) {}

    private final QuantizedMatrix embedding; // [vocab, hidden]
    private final QuantizedMatrix head;      // [vocab, hidden], the embedding when tied
    private final float[] outputNorm;
    private final Layer[] layers;
    private final Rope rope;
    private final boolean interleavedRope;
    /** Least work (multiply-adds x 2) an attention task gets from the team; smaller splits cost more than they save. */
    private static final long ATTENTION_CHUNK_FLOPS = 256 * 1024;
    private final Workers workers;
    private final long weightBytes;
    private final Buffers buffers;
    private final KvBuffers kvBuffers = KvBuffers.ofHeap();

    private CpuBackend(WeightSource source, int threads) {
        super(source.config());
        ModelConfig c = config;
        this.embedding = QuantizedMatrix.of(source.raw(TensorNames.TOKEN_EMBEDDING));
        this.head = c.tiedEmbeddings() ? embedding : QuantizedMatrix.of(source.raw(TensorNames.OUTPUT));
        this.outputNorm = source.tensor(TensorNames.OUTPUT_NORM).data();
        this.rope = new Rope(c, source.has(TensorNames.ROPE_FREQS) ? source.tensor(TensorNames.ROPE_FREQS).data() : null);
        this.interleavedRope = source.interleavedRotaryRows();
        this.layers = new Layer[c.layers()];
        long bytes = embedding.bytes() + (c.tiedEmbeddings() ? 0 : head.bytes());
        for (int l = 0; l < c.layers(); l++) {
            Layer w = new Layer(
                    source.tensor(TensorNames.attnNorm(l)).data(),
                    matrix(source, TensorNames.attnQ(l), c.heads() * c.headDim(), c.hiddenSize()),
                    matrix(source, TensorNames.attnK(l), c.kvHeads() * c.headDim(), c.hiddenSize()),
                    matrix(source, TensorNames.attnV(l), c.kvHeads() * c.headDim(), c.hiddenSize()),
                    c.attentionBias() ? source.tensor(TensorNames.attnQBias(l)).data() : null,
                    c.attentionBias() ? source.tensor(TensorNames.attnKBias(l)).data() : null,
                    c.attentionBias() ? source.tensor(TensorNames.attnVBias(l)).data() : null,
                    matrix(source, TensorNames.attnOutput(l), c.hiddenSize(), c.heads() * c.headDim()),
                    source.tensor(TensorNames.ffnNorm(l)).data(),
                    matrix(source, TensorNames.ffnGate(l), c.intermediateSize(), c.hiddenSize()),
                    matrix(source, TensorNames.ffnUp(l), c.intermediateSize(), c.hiddenSize()),
                    matrix(source, TensorNames.ffnDown(l), c.hiddenSize(), c.intermediateSize()));
            layers[l] = w;
            for (QuantizedMatrix m : new QuantizedMatrix[] {w.q, w.k, w.v, w.attnOutput, w.gate, w.up, w.down}) {
                bytes += m.bytes();
            }
        }
        this.weightBytes = bytes;
        this.workers = new Workers(threads, "cna-cpu");
        this.buffers = new Buffers(c);
    }

    /**
     * Maps the source's weights (the source must stay open while the backend runs: its files are mapped).
     *
     * @param threads threads for products and attention (the machine's cores is the usual choice)
     * @throws dev.cna.core.model.ModelFormatException naming the file and tensor for a type without kernel or a shape
     *                                                 that does not match the configuration
     */
    public static CpuBackend load(WeightSource source, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        return new CpuBackend(source, threads);
    }

    private static QuantizedMatrix matrix(WeightSource source, String name, int rows, int cols) {
        QuantizedMatrix m = QuantizedMatrix.of(source.raw(name));
        if (m.rows() != rows || m.cols() != cols) {
            throw new dev.cna.core.model.ModelFormatException(source.path(), name, "shape " + m.rows() + " x "
                    + m.cols() + " where the configuration needs " + rows + " x " + cols);
        }
        return m;
    }

    @Override
    public String name() {
        return "cpu (" + QuantizedMatrix.backend() + ", " + workers.parallelism() + " threads)";
    }

    /** The KV buffers kept from rows that ended, for the next rows (tests). */
    KvBuffers kvBuffers() {
        return kvBuffers;
    }

    /** Bytes of projection, embedding and head weights, as stored (what a decode step reads). */
    public long weightBytes() {
        return weightBytes;
    }

    @Override
    public KvCache newCache(int batchSize) {
        return new RowKvCache(config.layers(), config.kvHeads(), config.headDim(), config.contextLength(), batchSize, kvBuffers);
    }

    @Override
    protected float[][] pass(KvCache kv, int[] tokens, int width, MlpHook hook, Output output, int layersToRun,
                             BooleanSupplier preempt) {
        RowKvCache cache = (RowKvCache) kv;
        ModelConfig c = config;
        int batch = cache.batchSize();
        // The tokens actually computed: each row's non-padding columns, stacked.
        int[] slot = new int[batch * width];
        int n = 0;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < width; t++) {
                slot[b * width + t] = cache.columns() + t >= cache.pad(b) ? n++ : -1;
            }
        }
        Buffers buf = buffers.sized(n);
        int[] rowOf = new int[n];
        int[] position = new int[n];
        float[][] x = buf.x;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < width; t++) {
                int i = slot[b * width + t];
                if (i >= 0) {
                    rowOf[i] = b;
                    position[i] = cache.columns() + t - cache.pad(b);
                    embedding.row(tokens[b * width + t], x[i]);
                }
            }
            cache.ensure(b, cache.columns() + width - cache.pad(b));
        }
        rope.ensure(cache.columns() + width);

        for (int l = 0; l < layersToRun; l++) {
            if (preempt.getAsBoolean()) {
                throw new Preempted();
            }
            Layer w = layers[l];
            rmsNorm(x, w.attnNorm, buf.xb);
            project(buf.xb, new QuantizedMatrix[] {w.q, w.k, w.v}, new float[][][] {buf.q, buf.k, buf.v});
            for (int i = 0; i < n; i++) {
                addBias(buf.q[i], w.qBias);
                addBias(buf.k[i], w.kBias);
                addBias(buf.v[i], w.vBias);
                rotate(buf.q[i], c.heads(), position[i]);
                rotate(buf.k[i], c.kvHeads(), position[i]);
                cache.write(rowOf[i], l, position[i], buf.k[i], buf.v[i]);
            }
            attention(cache, l, buf.q, rowOf, position, buf.attended);
            project(buf.attended, new QuantizedMatrix[] {w.attnOutput}, new float[][][] {buf.out});
            addInto(x, buf.out);

            rmsNorm(x, w.ffnNorm, buf.xb);
            project(buf.xb, new QuantizedMatrix[] {w.gate, w.up}, new float[][][] {buf.gate, buf.up});
            swiGlu(buf.gate, buf.up);
            if (hook != null && hook.wants(l)) {
                hook.apply(l, new RowActivations(buf.gate, slot, batch, width, c.intermediateSize()));
            }
            project(buf.gate, new QuantizedMatrix[] {w.down}, new float[][][] {buf.out});
            if (hook != null && hook.wantsOutput(l)) {
                hook.afterMlp(l, new RowActivations(buf.out, slot, batch, width, c.hiddenSize()));
            }
            addInto(x, buf.out);
        }
        if (output == Output.NONE) {
            return null;
        }
        if (preempt.getAsBoolean()) {
            throw new Preempted();
        }
        return logits(x, slot, batch, width, output);
    }

    /**
     * outs[m] = matrices[m] x xs for every m, the output rows of all of them split as one range over the workers (q, k
     * and v, or gate and up, in one parallel step instead of one each), in whole groups of 16 rows: the kernels take
     * rows two or four at a time.
     */
    private void project(float[][] xs, QuantizedMatrix[] matrices, float[][][] outs) {
        int[] start = new int[matrices.length + 1];
        QuantizedMatrix.Input[] inputs = new QuantizedMatrix.Input[matrices.length];
        for (int mi = 0; mi < matrices.length; mi++) {
            start[mi + 1] = start[mi] + matrices[mi].rows();
            inputs[mi] = matrices[mi].input(xs);
        }
        workers.split(start[matrices.length], 16, (lo, hi) -> {
            for (int mi = 0; mi < matrices.length; mi++) {
                int from = Math.max(lo, start[mi]), to = Math.min(hi, start[mi + 1]);
                if (from < to) {
                    matrices[mi].matMulRows(inputs[mi], outs[mi], from - start[mi], to - start[mi]);
                }
            }
        });
    }

    /** Logits of the last column of every row (LAST) or of every position (EVERY; padding gets zeros). */
    private float[][] logits(float[][] x, int[] slot, int batch, int width, Output output) {
        int rows = output == Output.LAST ? batch : batch * width;
        float[][] normed = new float[rows][];
        for (int r = 0; r < rows; r++) {
            int i = output == Output.LAST ? slot[r * width + width - 1] : slot[r];
            if (i < 0 && output == Output.LAST) {
                throw new IllegalStateException("row " + r + " has no token in the last column of this pass");
            }
            normed[r] = new float[config.hiddenSize()];
            if (i >= 0) {
                rmsNorm(x[i], outputNorm, normed[r]);
            }
        }
        float[][] logits = new float[rows][config.vocabSize()];
        project(normed, new QuantizedMatrix[] {head}, new float[][][] {logits});
        return logits;
    }

    /**
     * Causal attention of each new token over its own row's cache, positions [0, its position], grouped-query:
     * head h reads kv head h / (heads / kvHeads). Scores q.k / sqrt(headDim) for all positions at once, as a sum
     * over the head's dimensions of q[d] times the cache's transposed keys; softmax in f32; then the values' rows
     * weighted and added.
     */
    private void attention(RowKvCache cache, int layer, float[][] q, int[] rowOf, int[] position, float[][] out) {
        int heads = config.heads();
        int span = 1;
        for (int p : position) {
            span = Math.max(span, p + 1);
        }
        // chunks of at least ATTENTION_CHUNK_FLOPS: a decode step's heads over a short context are less work than a
        // hand-off to the team costs
        long perHead = 4L * span * config.headDim();
        int grain = (int) Math.max(1, Math.min(q.length * heads, ATTENTION_CHUNK_FLOPS / perHead));
        workers.split(q.length * heads, grain, (lo, hi) -> {
            for (int task = lo; task < hi; task++) {
                int i = task / heads;
                attend(cache.row(rowOf[i]), cache.stride(), layer, q[i], position[i], task % heads, out[i]);
            }
        });
    }

    /** One token's head h at a position: scores over the row's positions [0, position], softmax, weighted values into out. */
    private void attend(RowKvCache.Row row, int stride, int layer, float[] q, int position, int h, float[] out) {
        int headDim = config.headDim();
        int kv = (h / (config.heads() / config.kvHeads())) * headDim;
        float scale = (float) (1 / Math.sqrt(headDim));
        float[] keys = row.keys[layer];
        float[] values = row.values[layer];
        int span = position + 1;
        float[] scores = Scratch.floats(span);
        FloatVectors.scores(q, h * headDim, scale, keys, kv * row.capacity, row.capacity, headDim, scores, span);
        float max = Float.NEGATIVE_INFINITY;
        for (int s = 0; s < span; s++) {
            max = Math.max(max, scores[s]);
        }
        float sum = 0;
        for (int s = 0; s < span; s++) {
            scores[s] = (float) Math.exp(scores[s] - max);
            sum += scores[s];
        }
        float inv = 1 / sum;
        for (int s = 0; s < span; s++) {
            scores[s] *= inv;
        }
        FloatVectors.weightedRows(scores, span, values, kv, stride, out, h * headDim, headDim);
    }

    /** Rotary embedding of each head of v at a position: pairs (i, i + d/2), or (2i, 2i + 1) in GGUF's llama order. */
    private void rotate(float[] v, int heads, int pos) {
        int d = config.headDim();
        int half = d / 2;
        for (int h = 0; h < heads; h++) {
            int base = h * d;
            for (int i = 0; i < half; i++) {
                float cos = rope.cos(pos, i);
                float sin = rope.sin(pos, i);
                int a = interleavedRope ? base + 2 * i : base + i;
                int b = interleavedRope ? a + 1 : a + half;
                float x0 = v[a];
                float x1 = v[b];
                v[a] = x0 * cos - x1 * sin;
                v[b] = x1 * cos + x0 * sin;
            }
        }
    }

    private void rmsNorm(float[][] x, float[] weight, float[][] out) {
        for (int i = 0; i < x.length; i++) {
            rmsNorm(x[i], weight, out[i]);
        }
    }

    private void rmsNorm(float[] x, float[] weight, float[] out) {
        float ss = FloatVectors.dot(x, 0, x, 0, x.length);
        float scale = (float) (1 / Math.sqrt(ss / x.length + config.rmsNormEps()));
        for (int j = 0; j < x.length; j++) {
            out[j] = x[j] * scale * weight[j];
        }
    }

    /** gate = SiLU(gate) * up, in place: the neuron activations h at the down projection's input. */
    private static void swiGlu(float[][] gate, float[][] up) {
        for (int i = 0; i < gate.length; i++) {
            float[] g = gate[i];
            float[] u = up[i];
            for (int j = 0; j < g.length; j++) {
                g[j] = g[j] / (1 + (float) Math.exp(-g[j])) * u[j];
            }
        }
    }

    private static void addBias(float[] x, float[] bias) {
        if (bias != null) {
            for (int j = 0; j < x.length; j++) {
                x[j] += bias[j];
            }
        }
    }

    private static void addInto(float[][] x, float[][] delta) {
        for (int i = 0; i < x.length; i++) {
            FloatVectors.axpy(1f, delta[i], 0, x[i], 0, x[i].length);
        }
    }

    /**
     * A pass's activations, one float[] per token, kept between passes (a pass at a time runs on a backend) so decode
     * steps allocate nothing but their logits; {@link #sized} hands out arrays of exactly n rows over rows that grow.
     */
    private static final class Buffers {
        private final ModelConfig c;
        private float[][] xPool = new float[0][];
        private float[][] xbPool = new float[0][];
        private float[][] qPool = new float[0][];
        private float[][] kPool = new float[0][];
        private float[][] vPool = new float[0][];
        private float[][] attendedPool = new float[0][];
        private float[][] outPool = new float[0][];
        private float[][] gatePool = new float[0][];
        private float[][] upPool = new float[0][];
        float[][] x, xb, q, k, v, attended, out, gate, up;

        Buffers(ModelConfig c) {
            this.c = c;
        }

        Buffers sized(int n) {
            if (xPool.length < n) {
                int qDim = c.heads() * c.headDim();
                int kvDim = c.kvHeads() * c.headDim();
                xPool = grow(xPool, n, c.hiddenSize());
                xbPool = grow(xbPool, n, c.hiddenSize());
                qPool = grow(qPool, n, qDim);
                kPool = grow(kPool, n, kvDim);
                vPool = grow(vPool, n, kvDim);
                attendedPool = grow(attendedPool, n, qDim);
                outPool = grow(outPool, n, c.hiddenSize());
                gatePool = grow(gatePool, n, c.intermediateSize());
                upPool = grow(upPool, n, c.intermediateSize());
            }
            x = java.util.Arrays.copyOf(xPool, n);
            xb = java.util.Arrays.copyOf(xbPool, n);
            q = java.util.Arrays.copyOf(qPool, n);
            k = java.util.Arrays.copyOf(kPool, n);
            v = java.util.Arrays.copyOf(vPool, n);
            attended = java.util.Arrays.copyOf(attendedPool, n);
            out = java.util.Arrays.copyOf(outPool, n);
            gate = java.util.Arrays.copyOf(gatePool, n);
            up = java.util.Arrays.copyOf(upPool, n);
            return this;
        }

        private static float[][] grow(float[][] pool, int n, int dim) {
            float[][] grown = java.util.Arrays.copyOf(pool, n);
            for (int i = pool.length; i < n; i++) {
                grown[i] = new float[dim];
            }
            return grown;
        }
    }

    /** A thread's attention scores, grown as needed. */
    private static final class Scratch {
        private static final ThreadLocal<float[][]> SCORES = ThreadLocal.withInitial(() -> new float[][] {new float[256]});

        static float[] floats(int n) {
            float[][] holder = SCORES.get();
            if (holder[0].length < n) {
                holder[0] = new float[Math.max(n, holder[0].length * 2)];
            }
            return holder[0];
        }
    }

    @Override
    public void close() {
        workers.close();
    }
}
