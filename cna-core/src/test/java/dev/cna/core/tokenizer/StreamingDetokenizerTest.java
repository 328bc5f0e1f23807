package dev.cna.core.tokenizer;

import dev.cna.core.model.gguf.GgufTokenizer;

import dev.cna.core.model.ModelStore;
import dev.cna.core.model.gguf.GgufFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Streaming detokenization equals decoding everything at once, and never shows half a character. */
class StreamingDetokenizerTest {
    static final List<String> TEXTS = List.of(
            "Hello world, how are you?",
            "emoji 😀😃😄 and a family 👨‍👩‍👧‍👦 and ❤️‍🔥 and a flag 🇫🇷",
            "中文测试：你好，世界！日本語のテキストです。한국어",
            "naïve café résumé, Zürich, Ångström, e\u0301",
            "Mixed 中文 and English 🤖🤖 and 123\n\ttabs and\nnewlines",
            "<|im_start|>assistant\nSure! 🎉<|im_end|>");

    static Tokenizer smollm;
    static Tokenizer spm;

    @BeforeAll
    static void load() throws Exception {
        if (!Files.exists(ModelStore.defaultModel())) {
            fail("the default model is missing at " + ModelStore.defaultModel() + ": run ./cna model pull");
        }
        try (GgufFile gguf = GgufFile.open(ModelStore.defaultModel())) {
            smollm = Tokenizer.create(GgufTokenizer.fromGguf(gguf));
        }
        Path file = Path.of(StreamingDetokenizerTest.class.getResource("/fixtures/tokenizer/spm-tiny.gguf").toURI());
        try (GgufFile gguf = GgufFile.open(file)) {
            spm = Tokenizer.create(GgufTokenizer.fromGguf(gguf));
        }
    }

    @AfterAll
    static void close() {
        smollm.close();
        spm.close();
    }

    @Test
    void byteLevelStreamEqualsWholeDecode() {
        for (String text : TEXTS) {
            assertStreamsAsWhole(smollm, text);
        }
    }

    @Test
    void sentencePieceStreamEqualsWholeDecode() {
        // Byte fallback splits every character outside the tiny vocabulary into byte tokens, and the
        // SentencePiece decoder drops the leading space only at the start of a text.
        for (String text : TEXTS) {
            assertStreamsAsWhole(spm, text);
        }
    }

    @Test
    void incompleteCharacterIsHeldUntilComplete() {
        int[] ids = spm.encode("中");
        assertEquals(4, ids.length, "▁ then the three UTF-8 bytes of 中 as byte tokens");
        StreamingDetokenizer stream = new StreamingDetokenizer(spm);
        assertEquals("", stream.push(ids[0]) + stream.push(ids[1]) + stream.push(ids[2]),
                "nothing is shown while the character is incomplete");
        assertEquals("中", stream.push(ids[3]));
        assertEquals("", stream.flush());
    }

    @Test
    void flushReturnsWhatIsHeldBack() {
        int[] ids = spm.encode("a中");
        StreamingDetokenizer stream = new StreamingDetokenizer(spm);
        StringBuilder shown = new StringBuilder();
        for (int i = 0; i < ids.length - 1; i++) {
            shown.append(stream.push(ids[i]));
        }
        assertEquals("a", shown.toString());
        String rest = stream.flush();
        assertEquals(spm.decode(Arrays.copyOf(ids, ids.length - 1)), "a" + rest,
                "a stream cut inside a character ends with what is left of it");
        assertTrue(!rest.isEmpty() && rest.chars().allMatch(c -> c == '\uFFFD'), rest);
    }

    private static void assertStreamsAsWhole(Tokenizer tokenizer, String text) {
        int[] ids = tokenizer.encode(text);
        StreamingDetokenizer stream = new StreamingDetokenizer(tokenizer);
        StringBuilder streamed = new StringBuilder();
        int held = 0;
        for (int id : ids) {
            String piece = stream.push(id);
            assertFalse(piece.contains("\uFFFD"), "a push showed half a character for " + text + ": " + piece);
            held += piece.isEmpty() ? 1 : 0;
            streamed.append(piece);
        }
        streamed.append(stream.flush());
        assertEquals(tokenizer.decode(ids), streamed.toString(), text);
        if (text.codePoints().anyMatch(c -> c > 0x7FF)) {
            assertTrue(held > 0, "multi-byte characters split over tokens were held back at least once: " + text);
        }
    }
}
