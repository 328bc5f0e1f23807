package dev.cna.core.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cna.core.model.HostTensor;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelFormatException;
import dev.cna.core.model.RawTensor;
import dev.cna.core.model.TensorNames;
import dev.cna.core.model.WeightSource;
import dev.cna.core.tokenizer.TokenizerSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * A llama, mistral or qwen2 model in a Hugging Face directory: config.json, model.safetensors or
 * model.safetensors.index.json with its shards, and the tokenizer files. Tensors are exposed under the
 * canonical {@link TensorNames}; every tensor the config calls for is checked (present, loadable dtype,
 * shape) when the directory is opened.
 */
public final class HfWeights implements WeightSource {
    static final String SINGLE_FILE = "model.safetensors";
    static final String INDEX_FILE = "model.safetensors.index.json";

    /** Per-layer tensors: Hugging Face name after "model.layers.N." and the canonical name for layer N. */
    private static final Map<String, IntFunction<String>> LAYER_TENSORS = Map.ofEntries(
            layer("input_layernorm.weight", TensorNames::attnNorm),
            layer("self_attn.q_proj.weight", TensorNames::attnQ),
            layer("self_attn.k_proj.weight", TensorNames::attnK),
            layer("self_attn.v_proj.weight", TensorNames::attnV),
            layer("self_attn.q_proj.bias", TensorNames::attnQBias),
            layer("self_attn.k_proj.bias", TensorNames::attnKBias),
            layer("self_attn.v_proj.bias", TensorNames::attnVBias),
            layer("self_attn.o_proj.weight", TensorNames::attnOutput),
            layer("post_attention_layernorm.weight", TensorNames::ffnNorm),
            layer("mlp.gate_proj.weight", TensorNames::ffnGate),
            layer("mlp.up_proj.weight", TensorNames::ffnUp),
            layer("mlp.down_proj.weight", TensorNames::ffnDown));

    /** Where a canonical tensor lives. */
    private record Location(SafetensorsFile file, String hfName) {}

    private final Path dir;
    private final ModelConfig config;
    private final List<SafetensorsFile> files;
    private final Map<String, Location> tensors;

    private HfWeights(Path dir, ModelConfig config, List<SafetensorsFile> files, Map<String, Location> tensors) {
        this.dir = dir;
        this.config = config;
        this.files = files;
        this.tensors = tensors;
    }

    public static HfWeights open(Path dir) {
        ModelConfig config = HfConfig.read(dir.resolve("config.json"));
        Map<String, String> hfNames = hfNames(config);
        Map<String, Path> placement = placement(dir, hfNames.values());
        Map<Path, SafetensorsFile> opened = new LinkedHashMap<>();
        try {
            Map<String, Location> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, int[]> expected : expectedShapes(config).entrySet()) {
                String canonical = expected.getKey();
                String hfName = hfNames.get(canonical);
                Path file = placement.get(hfName);
                if (file == null) {
                    Path named = Files.exists(dir.resolve(INDEX_FILE)) ? dir.resolve(INDEX_FILE) : dir.resolve(SINGLE_FILE);
                    throw new ModelFormatException(named, hfName, "tensor not found (config.json calls for it)");
                }
                SafetensorsFile st = opened.computeIfAbsent(file, SafetensorsFile::open);
                SafetensorsFile.TensorInfo info = st.tensors().get(hfName);
                if (info == null) {
                    throw new ModelFormatException(file, hfName, "tensor not found (" + INDEX_FILE + " places it in this file)");
                }
                if (!info.loadable()) {
                    throw new ModelFormatException(file, hfName, "dtype " + info.dtype() + " is not supported (supported: F32, F16, BF16)");
                }
                if (!Arrays.equals(info.shape(), expected.getValue())) {
                    throw new ModelFormatException(file, hfName, "shape " + Arrays.toString(info.shape())
                            + " does not match config.json, which implies " + Arrays.toString(expected.getValue()));
                }
                tensors.put(canonical, new Location(st, hfName));
            }
            return new HfWeights(dir, config, List.copyOf(opened.values()), tensors);
        } catch (RuntimeException e) {
            opened.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** Canonical name to Hugging Face name for every tensor this config could have. */
    private static Map<String, String> hfNames(ModelConfig config) {
        Map<String, String> names = new LinkedHashMap<>();
        names.put(TensorNames.TOKEN_EMBEDDING, "model.embed_tokens.weight");
        for (int layer = 0; layer < config.layers(); layer++) {
            for (Map.Entry<String, IntFunction<String>> t : LAYER_TENSORS.entrySet()) {
                names.put(t.getValue().apply(layer), "model.layers." + layer + "." + t.getKey());
            }
        }
        names.put(TensorNames.OUTPUT_NORM, "model.norm.weight");
        names.put(TensorNames.OUTPUT, "lm_head.weight");
        return names;
    }

    /** The tensors the forward pass needs for this config, with their PyTorch shapes. */
    static Map<String, int[]> expectedShapes(ModelConfig c) {
        int q = c.heads() * c.headDim();
        int kv = c.kvHeads() * c.headDim();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        shapes.put(TensorNames.TOKEN_EMBEDDING, new int[] {c.vocabSize(), c.hiddenSize()});
        for (int l = 0; l < c.layers(); l++) {
            shapes.put(TensorNames.attnNorm(l), new int[] {c.hiddenSize()});
            shapes.put(TensorNames.attnQ(l), new int[] {q, c.hiddenSize()});
            shapes.put(TensorNames.attnK(l), new int[] {kv, c.hiddenSize()});
            shapes.put(TensorNames.attnV(l), new int[] {kv, c.hiddenSize()});
            if (c.attentionBias()) {
                shapes.put(TensorNames.attnQBias(l), new int[] {q});
                shapes.put(TensorNames.attnKBias(l), new int[] {kv});
                shapes.put(TensorNames.attnVBias(l), new int[] {kv});
            }
            shapes.put(TensorNames.attnOutput(l), new int[] {c.hiddenSize(), q});
            shapes.put(TensorNames.ffnNorm(l), new int[] {c.hiddenSize()});
            shapes.put(TensorNames.ffnGate(l), new int[] {c.intermediateSize(), c.hiddenSize()});
            shapes.put(TensorNames.ffnUp(l), new int[] {c.intermediateSize(), c.hiddenSize()});
            shapes.put(TensorNames.ffnDown(l), new int[] {c.hiddenSize(), c.intermediateSize()});
        }
        shapes.put(TensorNames.OUTPUT_NORM, new int[] {c.hiddenSize()});
        // With tied embeddings transformers ignores a stored lm_head and reuses the embedding matrix.
        if (!c.tiedEmbeddings()) {
            shapes.put(TensorNames.OUTPUT, new int[] {c.vocabSize(), c.hiddenSize()});
        }
        return shapes;
    }

    /** Which file holds each wanted Hugging Face tensor: the index's weight_map, or everything in model.safetensors. */
    private static Map<String, Path> placement(Path dir, Iterable<String> wanted) {
        Path index = dir.resolve(INDEX_FILE);
        Path single = dir.resolve(SINGLE_FILE);
        Map<String, Path> placement = new LinkedHashMap<>();
        if (Files.isRegularFile(index)) {
            JsonNode weightMap = HfConfig.readJson(index).path("weight_map");
            if (!weightMap.isObject()) {
                throw new ModelFormatException(index, null, "has no weight_map object");
            }
            for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
                Path shard = dir.resolve(e.getValue().asText());
                if (!Files.isRegularFile(shard)) {
                    throw new ModelFormatException(shard, null, "shard named in " + INDEX_FILE + " does not exist");
                }
                placement.put(e.getKey(), shard);
            }
        } else if (Files.isRegularFile(single)) {
            wanted.forEach(name -> placement.put(name, single));
        } else {
            throw new ModelFormatException(dir, null, "has neither " + SINGLE_FILE + " nor " + INDEX_FILE
                    + " (only safetensors weights are supported)");
        }
        return placement;
    }

    @Override
    public Path path() { return dir; }

    @Override
    public ModelConfig config() { return config; }

    @Override
    public boolean has(String canonicalName) { return tensors.containsKey(canonicalName); }

    @Override
    public HostTensor tensor(String canonicalName) {
        Location at = tensors.get(canonicalName);
        if (at == null) {
            throw new ModelFormatException(dir, canonicalName, "tensor not found");
        }
        HostTensor t = at.file.load(at.hfName);
        return new HostTensor(canonicalName, t.shape(), t.data());
    }

    @Override
    public RawTensor raw(String canonicalName) {
        Location at = tensors.get(canonicalName);
        if (at == null) {
            throw new ModelFormatException(dir, canonicalName, "tensor not found");
        }
        return at.file.raw(at.hfName);
    }

    /** The safetensors files holding the weights, sorted by name; what a fingerprint hashes. */
    public List<Path> weightFiles() {
        return files.stream().map(SafetensorsFile::path).sorted().toList();
    }

    @Override
    public TokenizerSpec tokenizerSpec() {
        return HfTokenizerFiles.read(dir);
    }

    @Override
    public String modelId() {
        return dir.toAbsolutePath().normalize().getFileName().toString();
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }

    private static Map.Entry<String, IntFunction<String>> layer(String hfSuffix, IntFunction<String> canonical) {
        return Map.entry(hfSuffix, canonical);
    }
}
