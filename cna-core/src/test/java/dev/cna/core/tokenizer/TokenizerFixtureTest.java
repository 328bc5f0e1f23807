package dev.cna.core.tokenizer;

import dev.cna.core.model.gguf.GgufTokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.core.model.ModelFormatException;
import dev.cna.core.model.ModelStore;
import dev.cna.core.model.gguf.GgufFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The GGUF tokenizer against llama.cpp on the real default model (fixture made by
 * tools/fixtures/tokenizer_fixtures.py with llama-cpp-python).
 */
class TokenizerFixtureTest {
    static JsonNode fixture;
    static Path modelPath;
    static Map<String, Object> metadata;
    static TokenizerSpec spec;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        try (InputStream in = TokenizerFixtureTest.class.getResourceAsStream("/fixtures/tokenizer/smollm2.json")) {
            fixture = new ObjectMapper().readTree(in);
        }
        modelPath = ModelStore.defaultModel();
        if (!Files.exists(modelPath)) {
            fail("the default model is missing at " + modelPath + ": run ./cna model pull");
        }
        try (GgufFile gguf = GgufFile.open(modelPath)) {
            metadata = gguf.metadata();
            spec = GgufTokenizer.fromGguf(gguf);
        }
        tokenizer = Tokenizer.create(spec);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void encodesLikeLlamaCpp() {
        assertTrue(fixture.get("tokenize").size() >= 50, "the fixture covers at least 50 strings");
        assertMatches(tokenizer, fixture.get("tokenize"), true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-bpe", "qwen2", "gpt-2", "default"})
    void otherPreTokenizersEncodeLikeLlamaCpp(String pre) {
        Map<String, Object> changed = new HashMap<>(metadata);
        changed.put("tokenizer.ggml.pre", pre);
        try (Tokenizer t = Tokenizer.create(GgufTokenizer.fromMetadata(modelPath, changed))) {
            assertMatches(t, fixture.get("pre_tokenizers").get(pre), false);
        }
    }

    @Test
    void sentencePieceVocabularyEncodesLikeLlamaCpp() throws Exception {
        Path file = Path.of(getClass().getResource("/fixtures/tokenizer/spm-tiny.gguf").toURI());
        TokenizerSpec spm;
        try (GgufFile gguf = GgufFile.open(file)) {
            spm = GgufTokenizer.fromGguf(gguf);
        }
        assertTrue(spm.addBos(), "llama.cpp adds BOS by default for SentencePiece vocabularies");
        assertEquals("<s>", spm.bosToken());
        assertEquals(List.of("</s>"), spm.stopTokens());
        try (Tokenizer t = Tokenizer.create(spm)) {
            assertMatches(t, fixture.get("spm").get("tokenize"), true);
            assertEquals(1, t.encodePrompt("the dog")[0]);
        }
    }

    @Test
    void specialTokensOfTheDefaultModel() {
        assertEquals("<|im_start|>", spec.bosToken());
        assertFalse(spec.addBos(), "SmolLM2's GGUF says tokenizer.ggml.add_bos_token = false");
        assertEquals(List.of("<|im_end|>"), spec.stopTokens());
        assertEquals(2, tokenizer.eosId());
        assertArrayEquals(new int[] {2}, tokenizer.stopIds());
        assertEquals(49152, tokenizer.vocabSize());
        assertEquals(spec.chatTemplate(), metadata.get("tokenizer.chat_template"));
        assertArrayEquals(tokenizer.encode("Hello"), tokenizer.encodePrompt("Hello"),
                "no BOS when the model adds none");
    }

    @Test
    void encodePromptAddsBosOnce() {
        TokenizerSpec withBos = new TokenizerSpec(spec.tokenizerJson(), spec.chatTemplate(), spec.bosToken(), true,
                spec.stopTokens());
        try (Tokenizer t = Tokenizer.create(withBos)) {
            int[] hello = t.encode("Hello");
            int[] prompt = t.encodePrompt("Hello");
            assertEquals(hello.length + 1, prompt.length);
            assertEquals(1, prompt[0]);
            assertArrayEquals(t.encode("<|im_start|>Hello"), t.encodePrompt("<|im_start|>Hello"),
                    "a prompt that starts with BOS gets no second one");
        }
    }

    @Test
    void formatChatUsesTheModelTemplate() {
        String prompt = tokenizer.formatChat(List.of(new ChatMessage("user", "Hi")), true);
        assertTrue(prompt.endsWith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"), prompt);
        int[] ids = tokenizer.encode(prompt);
        assertEquals(1, ids[0], "<|im_start|> in the rendered text is parsed as the special token");
    }

    @Test
    void unsupportedTokenizerTypesNameTheFileAndValue() {
        Map<String, Object> changed = new HashMap<>(metadata);
        changed.put("tokenizer.ggml.pre", "no-such-pre");
        ModelFormatException pre = assertThrows(ModelFormatException.class,
                () -> GgufTokenizer.fromMetadata(modelPath, changed));
        assertTrue(pre.getMessage().contains(modelPath.toString()) && pre.getMessage().contains("'no-such-pre'"),
                pre.getMessage());

        changed.put("tokenizer.ggml.model", "bert");
        ModelFormatException model = assertThrows(ModelFormatException.class,
                () -> GgufTokenizer.fromMetadata(modelPath, changed));
        assertTrue(model.getMessage().contains(modelPath.toString()) && model.getMessage().contains("'bert'"),
                model.getMessage());
    }

    @Test
    void noChatTemplateSuggestsRawMode() {
        TokenizerSpec bare = new TokenizerSpec(spec.tokenizerJson(), null, spec.bosToken(), false, spec.stopTokens());
        try (Tokenizer t = Tokenizer.create(bare)) {
            assertFalse(t.chatTemplate().isPresent());
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> t.formatChat(List.of(new ChatMessage("user", "Hi")), true));
            assertTrue(e.getMessage().contains("raw"), e.getMessage());
        }
        assertNull(bare.chatTemplate());
    }

    /** Every case's ids (and detokenized text, when asked) equal llama.cpp's; all mismatches are reported. */
    private static void assertMatches(Tokenizer t, JsonNode cases, boolean checkDecode) {
        assertTrue(cases.size() > 0);
        List<String> mismatches = new ArrayList<>();
        for (JsonNode c : cases) {
            String text = c.get("text").asText();
            int[] expected = new int[c.get("ids").size()];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = c.get("ids").get(i).asInt();
            }
            int[] actual = t.encode(text);
            if (!Arrays.equals(expected, actual)) {
                mismatches.add("encode " + quote(text) + ": llama.cpp " + Arrays.toString(expected) + ", ours "
                        + Arrays.toString(actual));
            }
            if (checkDecode && !c.get("detokenized").asText().equals(t.decode(expected))) {
                mismatches.add("decode " + Arrays.toString(expected) + ": llama.cpp "
                        + quote(c.get("detokenized").asText()) + ", ours " + quote(t.decode(expected)));
            }
        }
        assertTrue(mismatches.isEmpty(), mismatches.size() + " mismatches:\n" + String.join("\n", mismatches));
    }

    private static String quote(String s) {
        return '"' + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + '"';
    }
}
