package dev.cna.core.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelFormatException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Reads a Hugging Face config.json (llama, mistral, qwen2) into a {@link ModelConfig}. */
public final class HfConfig {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> ARCHITECTURES = Map.of(
            "LlamaForCausalLM", "llama",
            "MistralForCausalLM", "mistral",
            "Qwen2ForCausalLM", "qwen2");
    private static final String SUPPORTED = "supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM";

    private HfConfig() {}

    public static ModelConfig read(Path configJson) {
        JsonNode root = readJson(configJson);
        String arch = architecture(configJson, root);
        // Qwen2 always has q/k/v biases; llama's optional attention_bias also adds an o_proj bias we do not run.
        if (root.path("attention_bias").asBoolean(false) || root.path("mlp_bias").asBoolean(false)) {
            throw new ModelFormatException(configJson, null, "attention_bias / mlp_bias = true is not supported");
        }
        int hidden = requiredInt(configJson, root, "hidden_size");
        int heads = requiredInt(configJson, root, "num_attention_heads");
        // transformers 5 moved rope_theta and the scaling into rope_parameters; older configs use rope_scaling.
        JsonNode rope = root.hasNonNull("rope_scaling") ? root.get("rope_scaling") : root.path("rope_parameters");
        double ropeTheta = root.hasNonNull("rope_theta") ? root.get("rope_theta").asDouble() : rope.path("rope_theta").asDouble(10000);
        return new ModelConfig(
                arch,
                requiredInt(configJson, root, "vocab_size"),
                hidden,
                requiredInt(configJson, root, "intermediate_size"),
                requiredInt(configJson, root, "num_hidden_layers"),
                heads,
                root.hasNonNull("num_key_value_heads") ? root.get("num_key_value_heads").asInt() : heads,
                root.hasNonNull("head_dim") ? root.get("head_dim").asInt() : hidden / heads,
                (float) root.path("rms_norm_eps").asDouble(1e-6),
                (float) ropeTheta,
                ropeScaling(configJson, root, rope),
                root.path("max_position_embeddings").asInt(2048),
                arch.equals("qwen2"),
                root.path("tie_word_embeddings").asBoolean(false));
    }

    private static String architecture(Path file, JsonNode root) {
        JsonNode list = root.path("architectures");
        if (list.isArray() && !list.isEmpty()) {
            String name = list.get(0).asText();
            String arch = ARCHITECTURES.get(name);
            if (arch == null) {
                throw new ModelFormatException(file, null, "unsupported architecture '" + name + "' (" + SUPPORTED + ")");
            }
            return arch;
        }
        String type = root.path("model_type").asText("");
        if (!ARCHITECTURES.containsValue(type)) {
            throw new ModelFormatException(file, null, "unsupported model_type '" + type + "' (supported: llama, mistral, qwen2)");
        }
        return type;
    }

    /** Llama 3.x "llama3" scaling; defaults are those of llama.cpp's converter. Other scaling types are refused. */
    private static ModelConfig.RopeScaling ropeScaling(Path file, JsonNode root, JsonNode rope) {
        String type = rope.path("rope_type").asText(rope.path("type").asText("default"));
        switch (type) {
            case "default":
                return null;
            case "llama3":
                int original = rope.hasNonNull("original_max_position_embeddings")
                        ? rope.get("original_max_position_embeddings").asInt()
                        : root.path("original_max_position_embeddings").asInt(8192);
                return new ModelConfig.RopeScaling(
                        (float) rope.path("factor").asDouble(8.0),
                        (float) rope.path("low_freq_factor").asDouble(1.0),
                        (float) rope.path("high_freq_factor").asDouble(4.0),
                        original);
            default:
                throw new ModelFormatException(file, null, "rope scaling type '" + type + "' is not supported (supported: llama3)");
        }
    }

    private static int requiredInt(Path file, JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null || !v.canConvertToInt()) {
            throw new ModelFormatException(file, null, "missing or non-integer '" + key + "'");
        }
        return v.asInt();
    }

    static JsonNode readJson(Path file) {
        try {
            JsonNode root = JSON.readTree(file.toFile());
            if (root == null || !root.isObject()) {
                throw new ModelFormatException(file, null, "not a JSON object");
            }
            return root;
        } catch (IOException e) {
            throw new ModelFormatException(file, null, "cannot read JSON: " + e.getMessage(), e);
        }
    }
}
