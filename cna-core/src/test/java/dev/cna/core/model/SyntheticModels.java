package dev.cna.core.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.core.model.gguf.GgmlType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Tiny random Llama-family models for tests, written from the same f32 weights both as a GGUF v3 file (as
 * llama.cpp's convert_hf_to_gguf.py lays it out) and as a Hugging Face directory (config.json, safetensors,
 * tokenizer files).
 *
 * <pre>{@code
 * SyntheticModels.Model m = SyntheticModels.Spec.llama().withLlama3RopeScaling().write(tempDir);
 * try (WeightSource gguf = ModelLoader.open(m.gguf()); WeightSource hf = ModelLoader.open(m.hfDir())) { ... }
 * }</pre>
 *
 * <p>The tokenizer is a byte-level BPE (GPT-2 byte alphabet) with three ChatML special tokens at ids 0-2
 * ({@code <|endoftext|>}, {@code <|im_start|>}, {@code <|im_end|>}), the 256 byte tokens at ids 3-258 and
 * a few merges after them.
 */
public final class SyntheticModels {
    public static final List<String> SPECIAL_TOKENS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");
    public static final List<String> MERGES = List.of("Ġ t", "h e", "Ġt he", "i n", "Ġ a");
    public static final int VOCAB_SIZE = SPECIAL_TOKENS.size() + 256 + MERGES.size();
    public static final String CHAT_TEMPLATE = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n'"
            + " + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    public static final int CONTEXT_LENGTH = 2048;

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Canonical per-layer name (after "blk.N.") to the Hugging Face one (after "model.layers.N."). */
    private static final Map<String, String> HF_LAYER_NAMES = Map.ofEntries(
            Map.entry("attn_norm.weight", "input_layernorm.weight"),
            Map.entry("attn_q.weight", "self_attn.q_proj.weight"),
            Map.entry("attn_k.weight", "self_attn.k_proj.weight"),
            Map.entry("attn_v.weight", "self_attn.v_proj.weight"),
            Map.entry("attn_q.bias", "self_attn.q_proj.bias"),
            Map.entry("attn_k.bias", "self_attn.k_proj.bias"),
            Map.entry("attn_v.bias", "self_attn.v_proj.bias"),
            Map.entry("attn_output.weight", "self_attn.o_proj.weight"),
            Map.entry("ffn_norm.weight", "post_attention_layernorm.weight"),
            Map.entry("ffn_gate.weight", "mlp.gate_proj.weight"),
            Map.entry("ffn_up.weight", "mlp.up_proj.weight"),
            Map.entry("ffn_down.weight", "mlp.down_proj.weight"));

    private SyntheticModels() {}

    /**
     * What to write.
     *
     * @param architecture       "llama", "mistral" or "qwen2" (qwen2 has q/k/v biases and no head_dim in config.json)
     * @param llama3RopeScaling  config.json gets Llama 3 rope_scaling; the GGUF gets the rope_freqs tensor instead
     * @param hfDtype            dtype of the safetensors data: "F32", "F16" or "BF16"
     * @param hfShards           1 writes model.safetensors; more write shards and model.safetensors.index.json
     * @param ggufTypes          canonical tensor name to GGUF storage type (F32, F16 or Q8_0); F32 when absent
     */
    public record Spec(String architecture, int hidden, int heads, int kvHeads, int headDim, int intermediate,
                       int layers, boolean tiedEmbeddings, boolean llama3RopeScaling, String hfDtype, int hfShards,
                       Map<String, GgmlType> ggufTypes, long seed) {

        public Spec {
            if (!List.of("llama", "mistral", "qwen2").contains(architecture)) {
                throw new IllegalArgumentException("architecture " + architecture);
            }
            if (architecture.equals("qwen2") && heads * headDim != hidden) {
                throw new IllegalArgumentException("qwen2 config.json has no head_dim, so heads * headDim must equal hidden");
            }
            if (!List.of("F32", "F16", "BF16").contains(hfDtype) || hfShards < 1) {
                throw new IllegalArgumentException("hfDtype " + hfDtype + ", hfShards " + hfShards);
            }
            ggufTypes = Map.copyOf(ggufTypes);
        }

        /** hidden 64, 4 heads, 2 kv heads, head dim 16, intermediate 96, 3 layers, untied output head. */
        public static Spec llama() {
            return new Spec("llama", 64, 4, 2, 16, 96, 3, false, false, "F32", 1, Map.of(), 1234);
        }

        /** As llama() with q/k/v biases and tied embeddings, as Qwen2 checkpoints usually are. */
        public static Spec qwen2() {
            return new Spec("qwen2", 64, 4, 2, 16, 96, 3, true, false, "F32", 1, Map.of(), 5678);
        }

        /** As llama(); llama.cpp converts Mistral to a GGUF with architecture "llama". */
        public static Spec mistral() {
            return new Spec("mistral", 64, 4, 2, 16, 96, 3, false, false, "F32", 1, Map.of(), 91011);
        }

        public Spec withTiedEmbeddings(boolean tied) {
            return new Spec(architecture, hidden, heads, kvHeads, headDim, intermediate, layers, tied, llama3RopeScaling,
                    hfDtype, hfShards, ggufTypes, seed);
        }

        public Spec withLlama3RopeScaling() {
            return new Spec(architecture, hidden, heads, kvHeads, headDim, intermediate, layers, tiedEmbeddings, true,
                    hfDtype, hfShards, ggufTypes, seed);
        }

        public Spec withHfDtype(String dtype) {
            return new Spec(architecture, hidden, heads, kvHeads, headDim, intermediate, layers, tiedEmbeddings,
                    llama3RopeScaling, dtype, hfShards, ggufTypes, seed);
        }

        public Spec withHfShards(int shards) {
            return new Spec(architecture, hidden, heads, kvHeads, headDim, intermediate, layers, tiedEmbeddings,
                    llama3RopeScaling, hfDtype, shards, ggufTypes, seed);
        }

        public Spec withGgufType(String canonicalName, GgmlType type) {
            Map<String, GgmlType> types = new HashMap<>(ggufTypes);
            types.put(canonicalName, type);
            return new Spec(architecture, hidden, heads, kvHeads, headDim, intermediate, layers, tiedEmbeddings,
                    llama3RopeScaling, hfDtype, hfShards, types, seed);
        }

        public Spec withSeed(long newSeed) {
            return new Spec(architecture, hidden, heads, kvHeads, headDim, intermediate, layers, tiedEmbeddings,
                    llama3RopeScaling, hfDtype, hfShards, ggufTypes, newSeed);
        }

        public boolean attentionBias() {
            return architecture.equals("qwen2");
        }

        public float ropeTheta() {
            return attentionBias() ? 1_000_000f : 10_000f;
        }

        public float rmsNormEps() {
            return attentionBias() ? 1e-6f : 1e-5f;
        }

        /** Llama 3.1's values; with head dim 16 and theta 10000 the frequencies fall in all three bands. */
        public ModelConfig.RopeScaling ropeScaling() {
            return llama3RopeScaling ? new ModelConfig.RopeScaling(8f, 1f, 4f, 8192) : null;
        }

        /** The configuration as config.json states it (the Hugging Face view). */
        public ModelConfig config() {
            return new ModelConfig(architecture, VOCAB_SIZE, hidden, intermediate, layers, heads, kvHeads, headDim,
                    rmsNormEps(), ropeTheta(), ropeScaling(), CONTEXT_LENGTH, attentionBias(), tiedEmbeddings);
        }

        /** Writes dir/synthetic-ARCH.gguf and the directory dir/synthetic-ARCH. */
        public Model write(Path dir) {
            Map<String, HostTensor> weights = randomWeights(this);
            Path gguf = dir.resolve("synthetic-" + architecture + ".gguf");
            Path hfDir = dir.resolve("synthetic-" + architecture);
            try {
                Files.createDirectories(hfDir);
                writeGguf(this, weights, gguf);
                writeHf(this, weights, hfDir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new Model(this, gguf, hfDir, weights);
        }
    }

    /**
     * A written model.
     *
     * @param weights the original f32 weights by canonical name, in Hugging Face orientation (what both readers
     *                should return, up to the storage rounding the spec asked for)
     */
    public record Model(Spec spec, Path gguf, Path hfDir, Map<String, HostTensor> weights) {
        public HostTensor weight(String canonicalName) {
            HostTensor t = weights.get(canonicalName);
            if (t == null) {
                throw new IllegalArgumentException("no tensor " + canonicalName);
            }
            return t;
        }
    }

    // ---- weights ----

    private static Map<String, HostTensor> randomWeights(Spec s) {
        Random random = new Random(s.seed());
        int q = s.heads() * s.headDim();
        int kv = s.kvHeads() * s.headDim();
        Map<String, HostTensor> w = new LinkedHashMap<>();
        put(w, TensorNames.TOKEN_EMBEDDING, gaussian(random, VOCAB_SIZE * s.hidden(), 1), VOCAB_SIZE, s.hidden());
        for (int l = 0; l < s.layers(); l++) {
            put(w, TensorNames.attnNorm(l), norm(random, s.hidden()), s.hidden());
            put(w, TensorNames.attnQ(l), linear(random, q, s.hidden()), q, s.hidden());
            put(w, TensorNames.attnK(l), linear(random, kv, s.hidden()), kv, s.hidden());
            put(w, TensorNames.attnV(l), linear(random, kv, s.hidden()), kv, s.hidden());
            if (s.attentionBias()) {
                put(w, TensorNames.attnQBias(l), gaussian(random, q, 0.1), q);
                put(w, TensorNames.attnKBias(l), gaussian(random, kv, 0.1), kv);
                put(w, TensorNames.attnVBias(l), gaussian(random, kv, 0.1), kv);
            }
            put(w, TensorNames.attnOutput(l), linear(random, s.hidden(), q), s.hidden(), q);
            put(w, TensorNames.ffnNorm(l), norm(random, s.hidden()), s.hidden());
            put(w, TensorNames.ffnGate(l), linear(random, s.intermediate(), s.hidden()), s.intermediate(), s.hidden());
            put(w, TensorNames.ffnUp(l), linear(random, s.intermediate(), s.hidden()), s.intermediate(), s.hidden());
            put(w, TensorNames.ffnDown(l), linear(random, s.hidden(), s.intermediate()), s.hidden(), s.intermediate());
        }
        put(w, TensorNames.OUTPUT_NORM, norm(random, s.hidden()), s.hidden());
        if (!s.tiedEmbeddings()) {
            put(w, TensorNames.OUTPUT, linear(random, VOCAB_SIZE, s.hidden()), VOCAB_SIZE, s.hidden());
        }
        return Collections.unmodifiableMap(w);
    }

    private static void put(Map<String, HostTensor> w, String name, float[] data, int... shape) {
        w.put(name, new HostTensor(name, shape, data));
    }

    private static float[] gaussian(Random random, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * scale);
        }
        return v;
    }

    /** Scaled like a trained layer, so activations stay near unit size through the stack. */
    private static float[] linear(Random random, int out, int in) {
        return gaussian(random, out * in, 1 / Math.sqrt(in));
    }

    private static float[] norm(Random random, int n) {
        float[] v = gaussian(random, n, 0.1);
        for (int i = 0; i < n; i++) {
            v[i] += 1;
        }
        return v;
    }

    // ---- GGUF ----

    private static void writeGguf(Spec s, Map<String, HostTensor> weights, Path file) throws IOException {
        // llama.cpp's converter writes Mistral as a "llama" model
        String arch = s.architecture().equals("qwen2") ? "qwen2" : "llama";
        boolean llamaConverter = arch.equals("llama");

        LittleEndian kv = new LittleEndian();
        int kvCount = 0;
        kvCount += kv.string("general.architecture", arch);
        kvCount += kv.string("general.type", "model");
        kvCount += kv.string("general.name", "synthetic " + s.architecture());
        kvCount += kv.u32(arch + ".block_count", s.layers());
        kvCount += kv.u32(arch + ".context_length", CONTEXT_LENGTH);
        kvCount += kv.u32(arch + ".embedding_length", s.hidden());
        kvCount += kv.u32(arch + ".feed_forward_length", s.intermediate());
        kvCount += kv.u32(arch + ".attention.head_count", s.heads());
        kvCount += kv.u32(arch + ".attention.head_count_kv", s.kvHeads());
        kvCount += kv.f32(arch + ".rope.freq_base", s.ropeTheta());
        kvCount += kv.f32(arch + ".attention.layer_norm_rms_epsilon", s.rmsNormEps());
        if (llamaConverter) {
            // the converter writes these when config.json has head_dim, and vocab_size for llama models only
            kvCount += kv.u32(arch + ".attention.key_length", s.headDim());
            kvCount += kv.u32(arch + ".attention.value_length", s.headDim());
            kvCount += kv.u32(arch + ".vocab_size", VOCAB_SIZE);
            kvCount += kv.u32(arch + ".rope.dimension_count", s.headDim());
        }
        kvCount += kv.u32("general.file_type", fileType(s));
        kvCount += kv.u32("general.quantization_version", 2);
        kvCount += kv.string("tokenizer.ggml.model", "gpt2");
        kvCount += kv.string("tokenizer.ggml.pre", "gpt-2");
        kvCount += kv.stringArray("tokenizer.ggml.tokens", vocabulary());
        List<Integer> tokenTypes = new ArrayList<>();
        for (int i = 0; i < VOCAB_SIZE; i++) {
            tokenTypes.add(i < SPECIAL_TOKENS.size() ? 3 : 1); // llama.cpp: 3 = control, 1 = normal
        }
        kvCount += kv.i32Array("tokenizer.ggml.token_type", tokenTypes);
        kvCount += kv.stringArray("tokenizer.ggml.merges", MERGES);
        if (!s.attentionBias()) {
            kvCount += kv.u32("tokenizer.ggml.bos_token_id", 1);
        }
        kvCount += kv.u32("tokenizer.ggml.eos_token_id", 2);
        kvCount += kv.bool("tokenizer.ggml.add_bos_token", false);
        kvCount += kv.string("tokenizer.chat_template", CHAT_TEMPLATE);

        Map<String, byte[]> data = new LinkedHashMap<>();
        Map<String, long[]> dims = new LinkedHashMap<>();
        Map<String, GgmlType> types = new LinkedHashMap<>();
        if (s.llama3RopeScaling()) {
            float[] factors = llama3RopeFactors(s);
            data.put(TensorNames.ROPE_FREQS, encodeGguf(TensorNames.ROPE_FREQS, factors, GgmlType.F32, factors.length));
            dims.put(TensorNames.ROPE_FREQS, new long[] {factors.length});
            types.put(TensorNames.ROPE_FREQS, GgmlType.F32);
        }
        for (HostTensor t : weights.values()) {
            float[] values = t.data();
            if (llamaConverter && t.name().endsWith(".attn_q.weight")) {
                values = permuteRotaryRows(values, t.shape()[0], s.heads());
            } else if (llamaConverter && t.name().endsWith(".attn_k.weight")) {
                values = permuteRotaryRows(values, t.shape()[0], s.kvHeads());
            }
            GgmlType type = s.ggufTypes().getOrDefault(t.name(), GgmlType.F32);
            int rowLength = t.shape()[t.shape().length - 1];
            data.put(t.name(), encodeGguf(t.name(), values, type, rowLength));
            long[] ne = new long[t.shape().length]; // ggml lists dimensions innermost first
            for (int i = 0; i < ne.length; i++) {
                ne[i] = t.shape()[ne.length - 1 - i];
            }
            dims.put(t.name(), ne);
            types.put(t.name(), type);
        }

        LittleEndian out = new LittleEndian();
        out.bytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        out.i32(3);
        out.i64(data.size());
        out.i64(kvCount);
        out.bytes(kv.toByteArray());
        long offset = 0;
        for (String name : data.keySet()) {
            out.str(name);
            out.i32(dims.get(name).length);
            for (long d : dims.get(name)) {
                out.i64(d);
            }
            out.i32(types.get(name).id);
            out.i64(offset);
            offset = align(offset + data.get(name).length);
        }
        out.padTo(32);
        for (byte[] bytes : data.values()) {
            out.bytes(bytes);
            out.padTo(32);
        }
        Files.write(file, out.toByteArray());
    }

    private static int fileType(Spec s) {
        if (s.ggufTypes().containsValue(GgmlType.Q8_0)) {
            return 7; // LLAMA_FTYPE_MOSTLY_Q8_0
        }
        return s.ggufTypes().containsValue(GgmlType.F16) ? 1 : 0; // MOSTLY_F16 : ALL_F32
    }

    private static long align(long offset) {
        return (offset + 31) / 32 * 32;
    }

    /**
     * convert_hf_to_gguf.py's LlamaModel.permute: inside each head, Hugging Face row part*(d/2)+i becomes row
     * 2i+part, so llama.cpp's adjacent-pair rope sees the pairs Hugging Face's rotate_half rotates.
     */
    private static float[] permuteRotaryRows(float[] w, int rows, int heads) {
        int cols = w.length / rows;
        int headDim = rows / heads;
        int half = headDim / 2;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int part = 0; part < 2; part++) {
                for (int i = 0; i < half; i++) {
                    int from = h * headDim + part * half + i;
                    int to = h * headDim + 2 * i + part;
                    System.arraycopy(w, from * cols, out, to * cols, cols);
                }
            }
        }
        return out;
    }

    /**
     * The rope_freqs tensor of convert_hf_to_gguf.py's LlamaModel for rope_type "llama3": one divisor per
     * frequency (1 for short wavelengths, factor for long ones, interpolated between), computed in float32
     * as its torch tensors are.
     */
    static float[] llama3RopeFactors(Spec s) {
        ModelConfig.RopeScaling r = s.ropeScaling();
        int dim = s.headDim();
        float lowFreqWavelen = r.originalContextLength() / r.lowFreqFactor();
        float highFreqWavelen = r.originalContextLength() / r.highFreqFactor();
        float[] factors = new float[dim / 2];
        for (int i = 0; i < dim / 2; i++) {
            float freq = 1f / (float) Math.pow(s.ropeTheta(), (float) (2 * i) / dim);
            float wavelen = (float) (2 * Math.PI) / freq;
            if (wavelen < highFreqWavelen) {
                factors[i] = 1;
            } else if (wavelen > lowFreqWavelen) {
                factors[i] = r.factor();
            } else {
                float smooth = (r.originalContextLength() / wavelen - r.lowFreqFactor()) / (r.highFreqFactor() - r.lowFreqFactor());
                factors[i] = 1 / ((1 - smooth) / r.factor() + smooth);
            }
        }
        return factors;
    }

    private static byte[] encodeGguf(String name, float[] values, GgmlType type, int rowLength) {
        switch (type) {
            case F32:
                return encodeSafetensors(values, "F32");
            case F16:
                return encodeSafetensors(values, "F16");
            case Q8_0:
                if (rowLength % 32 != 0) {
                    throw new IllegalArgumentException(name + ": row length " + rowLength + " is not a multiple of 32");
                }
                return quantizeQ80(values);
            default:
                throw new IllegalArgumentException(name + ": cannot write GGUF type " + type + " (F32, F16, Q8_0)");
        }
    }

    /** ggml's quantize_row_q8_0_ref: per block of 32, d = max|x| / 127 stored as f16, q = roundf(x / d). */
    static byte[] quantizeQ80(float[] x) {
        ByteBuffer out = ByteBuffer.allocate(x.length / 32 * 34).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < x.length / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[b * 32 + j]));
            }
            float d = amax / 127;
            float id = d != 0 ? 1 / d : 0;
            out.putShort(floatToHalf(d));
            for (int j = 0; j < 32; j++) {
                float v = x[b * 32 + j] * id;
                out.put((byte) (Math.signum(v) * Math.floor(Math.abs((double) v) + 0.5))); // roundf: half away from zero
            }
        }
        return out.array();
    }

    // ---- Hugging Face directory ----

    private static void writeHf(Spec s, Map<String, HostTensor> weights, Path dir) throws IOException {
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), configJson(s));
        writeTokenizerFiles(s, dir);

        List<HostTensor> tensors = new ArrayList<>(weights.values());
        if (s.hfShards() == 1) {
            writeSafetensors(dir.resolve("model.safetensors"), tensors, s.hfDtype());
            return;
        }
        ObjectNode weightMap = JSON.createObjectNode();
        long totalSize = 0;
        int perShard = (tensors.size() + s.hfShards() - 1) / s.hfShards();
        for (int shard = 0; shard < s.hfShards(); shard++) {
            String fileName = String.format("model-%05d-of-%05d.safetensors", shard + 1, s.hfShards());
            List<HostTensor> part = tensors.subList(Math.min(shard * perShard, tensors.size()),
                    Math.min((shard + 1) * perShard, tensors.size()));
            writeSafetensors(dir.resolve(fileName), part, s.hfDtype());
            for (HostTensor t : part) {
                weightMap.put(hfName(t.name()), fileName);
                totalSize += (long) t.data().length * (s.hfDtype().equals("F32") ? 4 : 2);
            }
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", totalSize);
        index.set("weight_map", weightMap);
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
    }

    private static ObjectNode configJson(Spec s) {
        ObjectNode c = JSON.createObjectNode();
        String className = switch (s.architecture()) {
            case "llama" -> "LlamaForCausalLM";
            case "mistral" -> "MistralForCausalLM";
            default -> "Qwen2ForCausalLM";
        };
        c.putArray("architectures").add(className);
        c.put("model_type", s.architecture());
        c.put("vocab_size", VOCAB_SIZE);
        c.put("hidden_size", s.hidden());
        c.put("intermediate_size", s.intermediate());
        c.put("num_hidden_layers", s.layers());
        c.put("num_attention_heads", s.heads());
        c.put("num_key_value_heads", s.kvHeads());
        if (!s.architecture().equals("qwen2")) {
            c.put("head_dim", s.headDim());
        }
        c.put("hidden_act", "silu");
        c.put("max_position_embeddings", CONTEXT_LENGTH);
        c.put("rms_norm_eps", s.rmsNormEps());
        c.put("rope_theta", s.ropeTheta());
        if (s.llama3RopeScaling()) {
            ModelConfig.RopeScaling r = s.ropeScaling();
            ObjectNode rope = c.putObject("rope_scaling");
            rope.put("rope_type", "llama3");
            rope.put("factor", r.factor());
            rope.put("low_freq_factor", r.lowFreqFactor());
            rope.put("high_freq_factor", r.highFreqFactor());
            rope.put("original_max_position_embeddings", r.originalContextLength());
        } else {
            c.putNull("rope_scaling");
        }
        if (s.architecture().equals("qwen2")) {
            c.put("use_sliding_window", false);
        } else {
            c.put("attention_bias", false);
            c.put("mlp_bias", false);
        }
        c.put("tie_word_embeddings", s.tiedEmbeddings());
        c.put("torch_dtype", Map.of("F32", "float32", "F16", "float16", "BF16", "bfloat16").get(s.hfDtype()));
        return c;
    }

    /**
     * tokenizer.json plus tokenizer_config.json and generation_config.json. llama and mistral use the plain
     * forms (string template and tokens, one eos id); qwen2 uses the others Hugging Face allows (a list of named
     * templates, an AddedToken object, no BOS, a list of eos ids).
     */
    private static void writeTokenizerFiles(Spec s, Path dir) throws IOException {
        JSON.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizerJson());
        ObjectNode config = JSON.createObjectNode();
        ObjectNode generation = JSON.createObjectNode();
        if (s.attentionBias()) {
            config.putNull("bos_token");
            config.putObject("eos_token").put("content", "<|im_end|>").put("special", true);
            ArrayNode templates = config.putArray("chat_template");
            templates.addObject().put("name", "default").put("template", CHAT_TEMPLATE);
            templates.addObject().put("name", "tool_use").put("template", "{{ 'tools are not used here' }}");
            generation.putArray("eos_token_id").add(0).add(2); // eos_token must still come first
        } else {
            config.put("bos_token", "<|im_start|>");
            config.put("eos_token", "<|im_end|>");
            config.put("chat_template", CHAT_TEMPLATE);
            generation.put("bos_token_id", 1);
            generation.put("eos_token_id", 2);
        }
        config.put("model_max_length", CONTEXT_LENGTH);
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("generation_config.json").toFile(), generation);
    }

    private static ObjectNode tokenizerJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int id = 0; id < SPECIAL_TOKENS.size(); id++) {
            added.addObject().put("id", id).put("content", SPECIAL_TOKENS.get(id)).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(false));
        root.set("post_processor", byteLevel(true).put("trim_offsets", false));
        root.set("decoder", byteLevel(true));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        List<String> tokens = vocabulary();
        for (int id = 0; id < tokens.size(); id++) {
            vocab.put(tokens.get(id), id);
        }
        ArrayNode merges = model.putArray("merges");
        MERGES.forEach(merges::add);
        return root;
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace) {
        ObjectNode n = JSON.createObjectNode();
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", addPrefixSpace);
        n.put("trim_offsets", true);
        n.put("use_regex", true);
        return n;
    }

    /** All token texts by id: specials, the 256 byte tokens in byte order, then the merge results. */
    public static List<String> vocabulary() {
        List<String> tokens = new ArrayList<>(SPECIAL_TOKENS);
        for (int b = 0; b < 256; b++) {
            tokens.add(byteToken(b));
        }
        for (String merge : MERGES) {
            tokens.add(merge.replace(" ", ""));
        }
        return tokens;
    }

    /** GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others map to code points from 256 on. */
    static String byteToken(int b) {
        boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (printable) {
            return String.valueOf((char) b);
        }
        int n = 0;
        for (int c = 0; c < b; c++) {
            boolean p = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF);
            n += p ? 0 : 1;
        }
        return String.valueOf((char) (256 + n));
    }

    /** The Hugging Face name of a canonical tensor name. */
    public static String hfName(String canonical) {
        switch (canonical) {
            case TensorNames.TOKEN_EMBEDDING:
                return "model.embed_tokens.weight";
            case TensorNames.OUTPUT_NORM:
                return "model.norm.weight";
            case TensorNames.OUTPUT:
                return "lm_head.weight";
            default:
                break;
        }
        String[] parts = canonical.split("\\.", 3); // blk, N, rest
        String rest = HF_LAYER_NAMES.get(parts[2]);
        return "model.layers." + parts[1] + "." + rest;
    }

    // ---- safetensors ----

    /**
     * An f32 tensor as a {@link RawTensor} (rows x the innermost dimension), for sources that hand a backend
     * weights changed in memory.
     */
    public static RawTensor rawF32(Path file, HostTensor t) {
        ByteBuffer bytes = ByteBuffer.allocate(t.data().length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(t.data());
        int cols = t.shape()[t.shape().length - 1];
        return new RawTensor(file, t.name(), GgmlType.F32, t.data().length / cols, cols, bytes);
    }

    /** Writes tensors (named canonically, stored under their Hugging Face names) to one safetensors file. */
    public static void writeSafetensors(Path file, List<HostTensor> tensors, String dtype) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (HostTensor t : tensors) {
            byte[] bytes = encodeSafetensors(t.data(), dtype);
            ObjectNode entry = header.putObject(hfName(t.name()));
            entry.put("dtype", dtype);
            ArrayNode shape = entry.putArray("shape");
            Arrays.stream(t.shape()).forEach(shape::add);
            entry.putArray("data_offsets").add(data.size()).add(data.size() + bytes.length);
            data.write(bytes);
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8; // the format pads the header with spaces to 8 bytes
        LittleEndian out = new LittleEndian();
        out.i64(padded);
        out.bytes(json);
        out.bytes(" ".repeat(padded - json.length).getBytes(StandardCharsets.US_ASCII));
        out.bytes(data.toByteArray());
        Files.write(file, out.toByteArray());
    }

    private static byte[] encodeSafetensors(float[] values, String dtype) {
        int width = dtype.equals("F32") ? 4 : 2;
        ByteBuffer buf = ByteBuffer.allocate(values.length * width).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case "F32" -> buf.putFloat(v);
                case "F16" -> buf.putShort(floatToHalf(v));
                case "BF16" -> buf.putShort(floatToBf16(v));
                default -> throw new IllegalArgumentException("dtype " + dtype);
            }
        }
        return buf.array();
    }

    /** f32 to bf16, rounding to nearest even as torch does (no NaNs occur here). */
    static short floatToBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** f32 to IEEE binary16, rounding to nearest even, with subnormals, overflow to infinity, and NaN. */
    static short floatToHalf(float v) {
        int bits = Float.floatToRawIntBits(v);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF;
        int mant = bits & 0x7FFFFF;
        if (exp == 0xFF) {
            return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign; // below half the smallest subnormal
            }
            int m = mant | 0x800000;
            int shift = 14 - e;
            return (short) (sign | roundShift(m, shift));
        }
        // a carry out of the mantissa correctly bumps the exponent (up to infinity)
        return (short) (sign | roundShift((e << 23) | mant, 13));
    }

    private static int roundShift(int value, int shift) {
        int kept = value >>> shift;
        int rest = value & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        return rest > halfway || (rest == halfway && (kept & 1) != 0) ? kept + 1 : kept;
    }

    /** A growing little-endian byte buffer; the metadata helpers return 1 so callers can count entries. */
    private static final class LittleEndian {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        void bytes(byte[] b) {
            out.writeBytes(b);
        }

        void i32(int v) {
            bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
        }

        void i64(long v) {
            bytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        void str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            bytes(b);
        }

        void padTo(int alignment) {
            while (out.size() % alignment != 0) {
                out.write(0);
            }
        }

        // GGUF metadata value types: 4 uint32, 5 int32, 6 float32, 7 bool, 8 string, 9 array

        int u32(String key, int v) {
            str(key);
            i32(4);
            i32(v);
            return 1;
        }

        int f32(String key, float v) {
            str(key);
            i32(6);
            i32(Float.floatToRawIntBits(v));
            return 1;
        }

        int bool(String key, boolean v) {
            str(key);
            i32(7);
            out.write(v ? 1 : 0);
            return 1;
        }

        int string(String key, String v) {
            str(key);
            i32(8);
            str(v);
            return 1;
        }

        int stringArray(String key, List<String> values) {
            str(key);
            i32(9);
            i32(8);
            i64(values.size());
            values.forEach(this::str);
            return 1;
        }

        int i32Array(String key, List<Integer> values) {
            str(key);
            i32(9);
            i32(5);
            i64(values.size());
            values.forEach(this::i32);
            return 1;
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }
}
