package dev.cna.core.runtime.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.cna.core.model.HostTensor;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.TensorNames;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.KvCache;
import dev.cna.core.runtime.MlpHook;
import dev.cna.core.runtime.Numerics;
import dev.cna.core.runtime.Rope;

import java.util.Arrays;
import java.util.function.BooleanSupplier;

/**
 * The f32 reference backend: the decoder on DJL NDArrays (PyTorch engine), every weight dequantized at load and
 * stored transposed ([in, out]) as f32 (or f16, {@link WeightStorage}). Batches are left-padded tensors. It has
 * autograd, so RelP ({@link #relevance}) runs here, and {@link Numerics#LLAMA_CPP} can reproduce llama.cpp's
 * roundings; DJL's CUDA natives would run it on a GPU.
 */
public final class TorchBackend extends Backend {
    /** Additive mask for keys a query may not see; finite so a fully masked padding row stays NaN-free. */
    private static final float MASKED = -1e30f;
    private final WeightStorage storage;
    private final Numerics numerics;
    private final NDManager manager;
    private final NDArray embedding;   // [vocab, hidden] f32, rows gathered per token
    private final NDArray head;        // [hidden, vocab]
    private final boolean headQuantized;
    private final NDArray outputNorm;  // [hidden]
    private final NDArray rotateHalf;  // [headDim, headDim]: x @ R = concat(-x2, x1)
    private final Layer[] layers;
    private final Rope rope;

    /**
     * One decoder layer; projections are stored transposed ([in, out]) and fused where they share an input.
     * The flags say which projections the file stores block-quantized (for {@link Numerics#LLAMA_CPP}).
     */
    private record Layer(NDArray attnNorm, NDArray qkv, NDArray qkvBias, NDArray attnOutput,
                         NDArray ffnNorm, NDArray gateUp, NDArray down,
                         boolean qkvQuantized, boolean attnOutputQuantized, boolean gateUpQuantized, boolean downQuantized) {}

    /** An NDArray-level hook inside a layer (RelP's gradient probe), beside the backend-neutral {@link MlpHook}. */
    private interface Probe {
        NDArray apply(int layer, NDArray h);
    }

    private TorchBackend(WeightSource source, WeightStorage storage, Numerics numerics, NDManager manager) {
        super(source.config());
        this.storage = storage;
        this.numerics = numerics;
        this.manager = manager;
        ModelConfig c = config;
        HostTensor embed = source.tensor(TensorNames.TOKEN_EMBEDDING);
        this.embedding = manager.create(embed.data(), new Shape(c.vocabSize(), c.hiddenSize()));
        HostTensor output = c.tiedEmbeddings() ? embed : source.tensor(TensorNames.OUTPUT);
        this.head = projection(output);
        this.headQuantized = source.blockQuantized(c.tiedEmbeddings() ? TensorNames.TOKEN_EMBEDDING : TensorNames.OUTPUT);
        this.outputNorm = vector(source.tensor(TensorNames.OUTPUT_NORM));
        this.rotateHalf = rotateHalfMatrix(manager, c.headDim());
        this.rope = new Rope(c, source.has(TensorNames.ROPE_FREQS) ? source.tensor(TensorNames.ROPE_FREQS).data() : null);
        this.layers = new Layer[c.layers()];
        // Attention scores are q.k / sqrt(headDim); folding the factor into Wq (rope is linear) saves an op per layer.
        float queryScale = (float) (1 / Math.sqrt(c.headDim()));
        for (int l = 0; l < c.layers(); l++) {
            HostTensor q = scaled(source.tensor(TensorNames.attnQ(l)), queryScale);
            HostTensor k = source.tensor(TensorNames.attnK(l));
            HostTensor v = source.tensor(TensorNames.attnV(l));
            NDArray qkvBias = null;
            if (c.attentionBias()) {
                float[] bias = concat(scaled(source.tensor(TensorNames.attnQBias(l)), queryScale).data(),
                        source.tensor(TensorNames.attnKBias(l)).data(), source.tensor(TensorNames.attnVBias(l)).data());
                qkvBias = manager.create(bias);
            }
            layers[l] = new Layer(
                    vector(source.tensor(TensorNames.attnNorm(l))),
                    projection(q, k, v),
                    qkvBias,
                    projection(source.tensor(TensorNames.attnOutput(l))),
                    vector(source.tensor(TensorNames.ffnNorm(l))),
                    projection(source.tensor(TensorNames.ffnGate(l)), source.tensor(TensorNames.ffnUp(l))),
                    projection(source.tensor(TensorNames.ffnDown(l))),
                    source.blockQuantized(TensorNames.attnQ(l)),
                    source.blockQuantized(TensorNames.attnOutput(l)),
                    source.blockQuantized(TensorNames.ffnGate(l)),
                    source.blockQuantized(TensorNames.ffnDown(l)));
        }
    }

    /** Loads every weight of the source into NDArrays, for exact f32 numerics; the source can be closed afterwards. */
    public static TorchBackend load(WeightSource source, WeightStorage storage) {
        return load(source, storage, Numerics.EXACT);
    }

    public static TorchBackend load(WeightSource source, WeightStorage storage, Numerics numerics) {
        NDManager manager = NDManager.newBaseManager("PyTorch");
        try {
            return new TorchBackend(source, storage, numerics, manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return "torch (" + storage + (numerics == Numerics.EXACT ? "" : ", " + numerics) + ")";
    }

    @Override
    public KvCache newCache(int batchSize) {
        return new TorchKvCache(manager, config.layers(), batchSize);
    }

    /**
     * RelP (docs/method.md section 5): each neuron's activation times the gradient of the target logit at the last
     * position (minus the counterfactual's, when given), summed over positions, through a linearized
     * backward pass: RMSNorm scales and SiLU's sigmoid held constant, and the gate-up product passing half
     * the gradient to each factor. The forward values are those of the ordinary pass.
     *
     * @param counterfactual a token id, or -1 for none
     * @return relevance [layer][neuron]
     */
    @Override
    public float[][] relevance(int[] tokens, int target, int counterfactual) {
        int width = tokens.length;
        try (TorchKvCache cache = new TorchKvCache(manager, config.layers(), 1); NDManager step = cache.manager.newSubManager();
             GradientCollector gradients = manager.getEngine().newGradientCollector()) {
            NDArray[] activations = new NDArray[layers.length];
            NDArray[] probes = new NDArray[layers.length];
            Probe probe = (layer, h) -> {
                // A zero leaf added to h receives exactly h's gradient.
                probes[layer] = step.zeros(h.getShape());
                probes[layer].setRequiresGradient(true);
                activations[layer] = h;
                return h.add(probes[layer]);
            };
            Pass pass = new Pass(cache, step, tokens, width, null, probe, true, layers.length, NEVER);
            NDArray logits = linear(rmsNorm(pass.hiddenStates(this).get(":, -1, :"), outputNorm, true), head, headQuantized)
                    .reshape(-1);
            NDArray objective = logits.get(target);
            if (counterfactual >= 0) {
                objective = objective.sub(logits.get(counterfactual));
            }
            gradients.backward(objective);
            float[][] relevance = new float[layers.length][];
            for (int l = 0; l < layers.length; l++) {
                relevance[l] = activations[l].mul(probes[l].getGradient()).sum(new int[] {0, 1}).toFloatArray();
            }
            return relevance;
        }
    }

    @Override
    protected float[][] pass(KvCache kv, int[] tokens, int width, MlpHook hook, Output output, int layersToRun,
                             BooleanSupplier preempt) {
        TorchKvCache cache = (TorchKvCache) kv;
        try (NDManager step = cache.manager.newSubManager()) {
            NDArray x = new Pass(cache, step, tokens, width, hook, null, false, layersToRun, preempt).hiddenStates(this);
            if (output == Output.NONE) {
                return null;
            }
            if (preempt.getAsBoolean()) {
                throw new Preempted();
            }
            NDArray last = output == Output.EVERY ? x : x.get(":, -1:, :");
            float[] flat = linear(rmsNorm(last, outputNorm, false), head, headQuantized).toFloatArray();
            int rows = flat.length / config.vocabSize();
            float[][] out = new float[rows][];
            for (int r = 0; r < rows; r++) {
                out[r] = Arrays.copyOfRange(flat, r * config.vocabSize(), (r + 1) * config.vocabSize());
            }
            return out;
        }
    }

    /**
     * One forward pass over [batch, width] new tokens through the first layersToRun layers, linearized for
     * RelP or not.
     */
    private record Pass(TorchKvCache cache, NDManager step, int[] tokens, int width, MlpHook hook, Probe probe,
                        boolean linearized, int layersToRun, BooleanSupplier preempt) {
        /**
         * The final hidden states [batch, width, hidden] (before the output norm), in the step's manager, the cache
         * advanced. Each layer's intermediates (attention scores above all) are freed when the layer ends, so a
         * pass holds one layer's scratch at a time; a linearized pass keeps them all for the backward pass.
         */
        NDArray hiddenStates(TorchBackend t) {
            int batch = cache.batchSize();
            NDArray ids = step.create(tokens).toType(DataType.INT64, false);
            NDArray x = t.embedding.get(step, new NDIndex("{}", ids)).reshape(batch, width, t.config.hiddenSize());
            NDArray[] rotary = t.rotaryTables(step, cache, width);
            NDArray mask = t.attentionMask(step, cache, width);
            for (int l = 0; l < layersToRun; l++) {
                if (preempt.getAsBoolean()) {
                    throw new Preempted();
                }
                if (linearized) {
                    x = t.layer(l, x, this, step, rotary[0], rotary[1], mask);
                    continue;
                }
                try (NDManager scope = step.newSubManager()) {
                    x.attach(scope); // the layer's input dies with its scratch
                    NDArray out = t.layer(l, x, this, scope, rotary[0], rotary[1], mask);
                    out.attach(step);
                    x = out;
                }
            }
            return x;
        }
    }

    /** One decoder layer; its intermediates land in scope (x's manager, or the step's for RelP). */
    private NDArray layer(int l, NDArray x, Pass pass, NDManager scope, NDArray cos, NDArray sin, NDArray mask) {
        Layer w = layers[l];
        TorchKvCache cache = pass.cache;
        MlpHook hook = pass.hook;
        long batch = x.getShape().get(0);
        long width = x.getShape().get(1);
        int heads = config.heads();
        int kvHeads = config.kvHeads();
        int headDim = config.headDim();

        NDArray qkv = linear(rmsNorm(x, w.attnNorm, pass.linearized), w.qkv, w.qkvQuantized);
        if (w.qkvBias != null) {
            qkv = qkv.add(w.qkvBias);
        }
        qkv = qkv.reshape(batch, width, heads + 2L * kvHeads, headDim);
        // Rotate q and k heads together: [b, t, heads + kvHeads, d].
        NDArray qk = qkv.get(":, :, :{}, :", heads + kvHeads);
        qk = qk.mul(cos).add(qk.matMul(rotateHalf).mul(sin));
        NDArray q = llamaCppF16(qk.get(":, :, :{}, :", heads).transpose(0, 2, 1, 3));
        NDArray k = llamaCppF16(qk.get(":, :, {}:, :", heads).transpose(0, 2, 1, 3));
        NDArray v = llamaCppF16(qkv.get(":, :, {}:, :", heads + kvHeads).transpose(0, 2, 1, 3));
        NDArray keys = cache.append(cache.keys, l, k);
        NDArray values = cache.append(cache.values, l, v);

        // Grouped-query attention: the heads sharing a kv head form a group axis, broadcast against it.
        int group = heads / kvHeads;
        NDArray q5 = q.reshape(batch, kvHeads, group, width, headDim);
        // Views of the cache would land in the cache's manager and pin every step's cache copy until the cache
        // closes; they belong to this step.
        NDArray k5 = keys.expandDims(2);
        k5.attach(scope);
        NDArray v5 = values.expandDims(2);
        v5.attach(scope);
        // llama.cpp multiplies the probabilities with its f16 values in f16 (ggml converts them to the values'
        // type) in every pass, prompt or decode: seen in its intermediate tensors (ggml eval callback).
        NDArray scores = llamaCppF16(q5.matMul(k5.transpose(0, 1, 2, 4, 3)).add(mask).softmax(-1));
        NDArray attended = scores.matMul(v5)
                .reshape(batch, heads, width, headDim)
                .transpose(0, 2, 1, 3)
                .reshape(batch, width, (long) heads * headDim);
        x = x.add(linear(attended, w.attnOutput, w.attnOutputQuantized));

        NDArray gateUp = linear(rmsNorm(x, w.ffnNorm, pass.linearized), w.gateUp, w.gateUpQuantized);
        NDArray gate = gateUp.get(":, :, :{}", config.intermediateSize());
        NDArray up = gateUp.get(":, :, {}:", config.intermediateSize());
        NDArray h = pass.linearized ? linearizedSwiGlu(gate, up) : gate.mul(gate.getNDArrayInternal().sigmoid()).mul(up);
        if (pass.probe != null) {
            h = pass.probe.apply(l, h);
        }
        if (hook != null && hook.wants(l)) {
            TorchActivations a = new TorchActivations(h);
            hook.apply(l, a);
            h = a.array();
        }
        NDArray out = linear(h, w.down, w.downQuantized);
        if (hook != null && hook.wantsOutput(l)) {
            TorchActivations a = new TorchActivations(out);
            hook.afterMlp(l, a);
            out = a.array();
        }
        return x.add(out);
    }

    /** RMSNorm; linearized (RelP), its scale is a constant to the backward pass. */
    private NDArray rmsNorm(NDArray x, NDArray weight, boolean linearized) {
        NDArray scale = x.square().mean(new int[] {-1}, true).add(config.rmsNormEps()).pow(-0.5);
        return x.mul(linearized ? scale.stopGradient() : scale).mul(weight);
    }

    /**
     * SiLU(gate) * up with RelP's rules: the sigmoid is a constant, and the product passes half of the
     * gradient to each factor: 0.5 * (a * sg(u) + sg(a) * u) has the value a * u.
     */
    private static NDArray linearizedSwiGlu(NDArray gate, NDArray up) {
        NDArray act = gate.mul(gate.getNDArrayInternal().sigmoid().stopGradient());
        return act.mul(up.stopGradient()).add(act.stopGradient().mul(up)).mul(0.5f);
    }

    private NDArray linear(NDArray x, NDArray weightTransposed, boolean quantizedWeight) {
        if (numerics == Numerics.LLAMA_CPP && quantizedWeight) {
            x = roundTo8BitBlocks(x);
        }
        if (storage == WeightStorage.F32) {
            return x.matMul(weightTransposed);
        }
        return x.toType(storage.dataType, false).matMul(weightTransposed).toType(DataType.FLOAT32, false);
    }

    /**
     * ggml's Q8_0/Q8_1 activation rounding: per block of 32 values, d = max|x| / 127 kept as f16, and
     * x = round(x / d) * d. Only for {@link Numerics#LLAMA_CPP}.
     */
    private static NDArray roundTo8BitBlocks(NDArray x) {
        Shape shape = x.getShape();
        NDArray blocks = x.reshape(-1, shape.tail() / 32, 32);
        NDArray d = blocks.abs().max(new int[] {-1}, true).div(127f);
        NDArray q = blocks.mul(d.maximum(1e-30f).getNDArrayInternal().rdiv(1f)).round();
        return q.mul(d.toType(DataType.FLOAT16, false).toType(DataType.FLOAT32, false)).reshape(shape);
    }

    /** llama.cpp keeps keys and values in an f16 cache and multiplies them with f16 operands. */
    private NDArray llamaCppF16(NDArray x) {
        return numerics == Numerics.LLAMA_CPP ? x.toType(DataType.FLOAT16, false).toType(DataType.FLOAT32, false) : x;
    }

    /** cos and sin for each row's positions of this step, [batch, width, 1, headDim], halves repeated. */
    private NDArray[] rotaryTables(NDManager step, KvCache cache, int width) {
        int batch = cache.batchSize();
        int half = rope.halfDim();
        int d = 2 * half;
        rope.ensure(cache.columns() + width);
        float[] cos = new float[batch * width * d];
        float[] sin = new float[batch * width * d];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < width; t++) {
                int position = Math.max(0, cache.columns() + t - cache.pad(b));
                int at = (b * width + t) * d;
                for (int i = 0; i < half; i++) {
                    cos[at + i] = cos[at + half + i] = rope.cos(position, i);
                    sin[at + i] = sin[at + half + i] = rope.sin(position, i);
                }
            }
        }
        Shape shape = new Shape(batch, width, 1, d);
        return new NDArray[] {step.create(cos, shape), step.create(sin, shape)};
    }

    /** Additive mask [batch, 1, 1, width, columns]: causal, and blind to each row's left padding. */
    private NDArray attentionMask(NDManager step, KvCache cache, int width) {
        int batch = cache.batchSize();
        int columns = cache.columns() + width;
        float[] mask = new float[batch * width * columns];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < width; t++) {
                int query = cache.columns() + t;
                int at = (b * width + t) * columns;
                for (int s = 0; s < columns; s++) {
                    mask[at + s] = s < cache.pad(b) || s > query ? MASKED : 0f;
                }
            }
        }
        return step.create(mask, new Shape(batch, 1, 1, width, columns));
    }

    private NDArray vector(HostTensor t) {
        return manager.create(t.data());
    }

    /** Stores linear weights [out, in] transposed to [in, out], several side by side when they share the input. */
    private NDArray projection(HostTensor... parts) {
        int in = parts[0].shape()[1];
        int out = 0;
        for (HostTensor p : parts) {
            out += p.shape()[0];
        }
        float[] t = new float[in * out];
        int column = 0;
        for (HostTensor p : parts) {
            int rows = p.shape()[0];
            float[] src = p.data();
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < in; i++) {
                    t[i * out + column + r] = src[r * in + i];
                }
            }
            column += rows;
        }
        NDArray array = manager.create(t, new Shape(in, out));
        return storage == WeightStorage.F32 ? array : array.toType(storage.dataType, false);
    }

    private static NDArray rotateHalfMatrix(NDManager manager, int headDim) {
        int half = headDim / 2;
        float[] r = new float[headDim * headDim];
        for (int j = 0; j < half; j++) {
            r[(j + half) * headDim + j] = -1f; // out[j] = -x[j + half]
            r[j * headDim + j + half] = 1f;    // out[j + half] = x[j]
        }
        return manager.create(r, new Shape(headDim, headDim));
    }

    private static HostTensor scaled(HostTensor t, float factor) {
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) {
            d[i] *= factor;
        }
        return new HostTensor(t.name(), t.shape(), d);
    }

    private static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
