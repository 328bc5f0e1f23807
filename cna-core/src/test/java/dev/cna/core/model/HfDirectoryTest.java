package dev.cna.core.model;

import dev.cna.core.model.hf.HfConfig;
import dev.cna.core.model.hf.HfWeights;
import dev.cna.core.tokenizer.TokenizerSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** config.json and tokenizer file variants of Hugging Face directories. */
class HfDirectoryTest {
    @TempDir
    Path dir;

    @Test
    void llamaTokenizerFilesInTheirPlainForm() throws IOException {
        Path hf = SyntheticModels.Spec.llama().write(dir).hfDir();
        try (WeightSource source = ModelLoader.open(hf)) {
            TokenizerSpec spec = source.tokenizerSpec();
            assertEquals(Files.readString(hf.resolve("tokenizer.json")), spec.tokenizerJson());
            assertEquals(SyntheticModels.CHAT_TEMPLATE, spec.chatTemplate());
            assertEquals("<|im_start|>", spec.bosToken());
            assertEquals(false, spec.addBos(), "add_bos_token is absent, so false");
            assertEquals(List.of("<|im_end|>"), spec.stopTokens(), "eos_token and eos_token_id 2 are one token");
            assertEquals("synthetic-llama", source.modelId());
        }
    }

    @Test
    void qwen2TokenizerFilesInTheirOtherForms() {
        Path hf = SyntheticModels.Spec.qwen2().write(dir).hfDir();
        try (WeightSource source = ModelLoader.open(hf)) {
            TokenizerSpec spec = source.tokenizerSpec();
            assertEquals(SyntheticModels.CHAT_TEMPLATE, spec.chatTemplate(), "the template named default");
            assertNull(spec.bosToken());
            // eos_token given as {content: ...} comes first, then eos_token_id [0, 2] mapped to texts
            assertEquals(List.of("<|im_end|>", "<|endoftext|>"), spec.stopTokens());
        }
    }

    @Test
    void separateChatTemplateFileAndAddBos() throws IOException {
        Path hf = SyntheticModels.Spec.llama().write(dir).hfDir();
        Files.writeString(hf.resolve("tokenizer_config.json"), "{\"add_bos_token\": true, \"bos_token\": {\"content\": \"<|im_start|>\"}}");
        Files.writeString(hf.resolve("chat_template.jinja"), "{{ messages[0]['content'] }}");
        Files.writeString(hf.resolve("generation_config.json"), "{\"eos_token_id\": [0, 261]}");
        try (WeightSource source = ModelLoader.open(hf)) {
            TokenizerSpec spec = source.tokenizerSpec();
            assertEquals("{{ messages[0]['content'] }}", spec.chatTemplate());
            assertTrue(spec.addBos());
            assertEquals("<|im_start|>", spec.bosToken());
            assertEquals(List.of("<|endoftext|>", "Ġthe"), spec.stopTokens(), "ids resolve through the vocab too");
        }
    }

    @Test
    void eosIdOutsideTheVocabulary() throws IOException {
        Path hf = SyntheticModels.Spec.llama().write(dir).hfDir();
        Files.writeString(hf.resolve("generation_config.json"), "{\"eos_token_id\": 9999}");
        try (WeightSource source = ModelLoader.open(hf)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, source::tokenizerSpec);
            assertEquals(hf.resolve("generation_config.json") + ": eos_token_id 9999 is not a token of tokenizer.json", e.getMessage());
        }
    }

    @Test
    void shardedDirectoryListsItsShards() {
        Path hf = SyntheticModels.Spec.llama().withHfShards(2).write(dir).hfDir();
        try (HfWeights weights = HfWeights.open(hf)) {
            assertEquals(List.of(hf.resolve("model-00001-of-00002.safetensors"), hf.resolve("model-00002-of-00002.safetensors")),
                    weights.weightFiles());
        }
    }

    @Test
    void configDefaultsAndModelTypeFallback() throws IOException {
        // no architectures, no head_dim, no num_key_value_heads, no rope_theta: transformers' defaults apply
        ModelConfig c = config("{\"model_type\": \"mistral\", \"vocab_size\": 10, \"hidden_size\": 64,"
                + " \"intermediate_size\": 96, \"num_hidden_layers\": 2, \"num_attention_heads\": 8}");
        assertEquals(new ModelConfig("mistral", 10, 64, 96, 2, 8, 8, 8, 1e-6f, 10000f, null, 2048, false, false), c);
    }

    @Test
    void transformers5RopeParameters() throws IOException {
        ModelConfig c = config("{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 10, \"hidden_size\": 64,"
                + " \"intermediate_size\": 96, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"head_dim\": 32,"
                + " \"num_key_value_heads\": 2, \"tie_word_embeddings\": true, \"max_position_embeddings\": 131072,"
                + " \"rope_parameters\": {\"rope_type\": \"llama3\", \"rope_theta\": 500000.0, \"factor\": 32.0,"
                + " \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}}");
        assertEquals(500000f, c.ropeTheta());
        assertEquals(new ModelConfig.RopeScaling(32f, 1f, 4f, 8192), c.ropeScaling());
        assertEquals(32, c.headDim());
        assertEquals(2, c.kvHeads());
        assertTrue(c.tiedEmbeddings());
        assertEquals(131072, c.contextLength());
    }

    @Test
    void qwen2HasAttentionBiasAndLlamaBiasIsRefused() throws IOException {
        String base = "\"vocab_size\": 10, \"hidden_size\": 64, \"intermediate_size\": 96, \"num_hidden_layers\": 2,"
                + " \"num_attention_heads\": 4";
        assertTrue(config("{\"architectures\": [\"Qwen2ForCausalLM\"], " + base + "}").attentionBias());
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> config("{\"architectures\": [\"LlamaForCausalLM\"], \"attention_bias\": true, " + base + "}"));
        assertTrue(e.getMessage().endsWith("attention_bias / mlp_bias = true is not supported"), e.getMessage());
    }

    @Test
    void missingRequiredKeyAndBadJson() throws IOException {
        ModelFormatException missing = assertThrows(ModelFormatException.class,
                () -> config("{\"model_type\": \"llama\", \"vocab_size\": 10}"));
        assertTrue(missing.getMessage().endsWith("config.json: missing or non-integer 'hidden_size'"), missing.getMessage());
        ModelFormatException bad = assertThrows(ModelFormatException.class, () -> config("{\"model_type\": "));
        assertTrue(bad.getMessage().contains("config.json: cannot read JSON"), bad.getMessage());
    }

    private ModelConfig config(String json) throws IOException {
        return HfConfig.read(Files.writeString(dir.resolve("config.json"), json));
    }
}
