package dev.cna.core.model.gguf;

import dev.cna.core.model.HostTensor;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelFormatException;
import dev.cna.core.model.RawTensor;
import dev.cna.core.model.TensorNames;
import dev.cna.core.model.WeightSource;
import dev.cna.core.tokenizer.TokenizerSpec;

import java.nio.file.Path;
import java.util.Set;

/** A llama, mistral or qwen2 model in one GGUF file. */
public final class GgufWeights implements WeightSource {
    private static final Set<String> ARCHITECTURES = Set.of("llama", "mistral", "qwen2");

    private final GgufFile file;
    private final ModelConfig config;
    /** llama.cpp's converter interleaves the two rotary halves of q/k rows for llama; undone at load. */
    private final boolean permutedQk;

    public GgufWeights(GgufFile file) {
        this.file = file;
        String arch = String.valueOf(file.required("general.architecture"));
        if (!ARCHITECTURES.contains(arch)) {
            throw new ModelFormatException(file.path(), null,
                    "unsupported architecture '" + arch + "' (supported: llama, mistral, qwen2)");
        }
        this.config = readConfig(file, arch);
        this.permutedQk = !arch.equals("qwen2");
    }

    public static GgufWeights open(Path path) {
        GgufFile file = GgufFile.open(path);
        try {
            return new GgufWeights(file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static ModelConfig readConfig(GgufFile f, String arch) {
        int hidden = intKey(f, arch + ".embedding_length");
        int heads = intKey(f, arch + ".attention.head_count");
        int kvHeads = f.number(arch + ".attention.head_count_kv", heads).intValue();
        int headDim = f.number(arch + ".attention.key_length", hidden / heads).intValue();
        GgufFile.TensorInfo embedding = f.tensors().get(TensorNames.TOKEN_EMBEDDING);
        if (embedding == null) {
            throw new ModelFormatException(f.path(), TensorNames.TOKEN_EMBEDDING, "tensor not found");
        }
        int vocab = f.number(arch + ".vocab_size", embedding.dims()[1]).intValue();
        return new ModelConfig(
                arch,
                vocab,
                hidden,
                intKey(f, arch + ".feed_forward_length"),
                intKey(f, arch + ".block_count"),
                heads,
                kvHeads,
                headDim,
                f.number(arch + ".attention.layer_norm_rms_epsilon", 1e-5f).floatValue(),
                f.number(arch + ".rope.freq_base", 10000f).floatValue(),
                null, // llama3 scaling arrives as the rope_freqs tensor in GGUF files
                f.number(arch + ".context_length", 2048).intValue(),
                f.tensors().containsKey(TensorNames.attnQBias(0)),
                !f.tensors().containsKey(TensorNames.OUTPUT));
    }

    private static int intKey(GgufFile f, String key) {
        Object v = f.required(key);
        if (!(v instanceof Number n)) {
            throw new ModelFormatException(f.path(), null, "metadata key " + key + " is not a number: " + v);
        }
        return n.intValue();
    }

    @Override
    public Path path() { return file.path(); }

    @Override
    public ModelConfig config() { return config; }

    @Override
    public boolean has(String canonicalName) { return file.tensors().containsKey(canonicalName); }

    @Override
    public HostTensor tensor(String name) {
        HostTensor t = file.load(name);
        if (permutedQk && (name.endsWith(".attn_q.weight") || name.endsWith(".attn_k.weight"))) {
            int heads = name.endsWith(".attn_q.weight") ? config.heads() : config.kvHeads();
            return unpermuteRotaryRows(t, heads);
        }
        return t;
    }

    @Override
    public RawTensor raw(String name) {
        GgufFile.TensorInfo t = file.tensors().get(name);
        if (t == null) {
            throw new ModelFormatException(file.path(), name, "tensor not found");
        }
        long[] dims = t.dims();
        long rows = 1;
        for (int i = 1; i < dims.length; i++) {
            rows *= dims[i];
        }
        if (rows > Integer.MAX_VALUE || dims[0] > Integer.MAX_VALUE) {
            throw new ModelFormatException(file.path(), name, "shape " + java.util.Arrays.toString(dims) + " is too large");
        }
        return new RawTensor(file.path(), name, t.type(), (int) rows, (int) dims[0], file.rawData(t));
    }

    @Override
    public boolean interleavedRotaryRows() {
        return permutedQk;
    }

    /**
     * Inverse of convert_hf_to_gguf.py's permute(): inside each head, GGUF row 2i+h holds Hugging Face
     * row h*(d/2)+i. Back in Hugging Face order, rope rotates the two halves of a head (neox style).
     */
    static HostTensor unpermuteRotaryRows(HostTensor t, int heads) {
        int rows = t.shape()[0];
        int cols = t.data().length / rows;
        int headDim = rows / heads;
        int half = headDim / 2;
        float[] out = new float[t.data().length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int part = 0; part < 2; part++) {
                    int src = h * headDim + 2 * i + part;
                    int dst = h * headDim + part * half + i;
                    System.arraycopy(t.data(), src * cols, out, dst * cols, cols);
                }
            }
        }
        return new HostTensor(t.name(), t.shape(), out);
    }

    @Override
    public boolean blockQuantized(String canonicalName) {
        GgufFile.TensorInfo t = file.tensors().get(canonicalName);
        return t != null && t.type().blockSize > 1;
    }

    @Override
    public TokenizerSpec tokenizerSpec() {
        return GgufTokenizer.fromGguf(file);
    }

    @Override
    public String modelId() {
        String name = path().getFileName().toString();
        return name.endsWith(".gguf") ? name.substring(0, name.length() - 5) : name;
    }

    @Override
    public void close() { file.close(); }
}
