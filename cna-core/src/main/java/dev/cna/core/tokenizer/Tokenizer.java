package dev.cna.core.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Text to token ids and back, with a model's special tokens and chat template. Wraps DJL's
 * {@link HuggingFaceTokenizer} loaded from a tokenizer.json document. Thread-safe.
 */
public final class Tokenizer implements AutoCloseable {
    static {
        // DJL's tokenizer factory probes the EC2 metadata address and sends telemetry unless ai.djl.offline or
        // OPT_OUT_TRACKING is set; this platform never phones home, even where ai.djl.offline was forgotten.
        if (System.getenv("OPT_OUT_TRACKING") == null && System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
    }

    private final HuggingFaceTokenizer hf;
    private final int bosId; // -1 when the model has no BOS token
    private final boolean addBos;
    private final int[] stopIds;
    private final int vocabSize;
    private final ChatTemplate chatTemplate;
    private final TokenBytes tokenBytes;

    private Tokenizer(HuggingFaceTokenizer hf, int bosId, boolean addBos, int[] stopIds, int vocabSize,
                      ChatTemplate chatTemplate, TokenBytes tokenBytes) {
        this.hf = hf;
        this.bosId = bosId;
        this.addBos = addBos;
        this.stopIds = stopIds;
        this.vocabSize = vocabSize;
        this.chatTemplate = chatTemplate;
        this.tokenBytes = tokenBytes;
    }

    public static Tokenizer create(TokenizerSpec spec) {
        if (spec.stopTokens().isEmpty()) {
            throw new IllegalArgumentException("a tokenizer needs at least one stop token (EOS)");
        }
        // No BOS/EOS of its own, no truncation, no padding: this class decides where special tokens go.
        Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
        HuggingFaceTokenizer hf;
        try (InputStream json = new ByteArrayInputStream(spec.tokenizerJson().getBytes(StandardCharsets.UTF_8))) {
            hf = HuggingFaceTokenizer.newInstance(json, options);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the tokenizer.json document", e);
        }
        try {
            int bosId = spec.bosToken() == null ? -1 : singleId(hf, spec.bosToken(), "BOS token");
            int[] stopIds = spec.stopTokens().stream().mapToInt(t -> singleId(hf, t, "stop token")).toArray();
            String eos = spec.stopTokens().get(0);
            ChatTemplate template = new ChatTemplate(spec.chatTemplate(), spec.bosToken(), eos);
            int vocabSize = vocabSize(spec.tokenizerJson());
            return new Tokenizer(hf, bosId, spec.addBos(), stopIds, vocabSize, template,
                    TokenBytes.of(spec.tokenizerJson(), vocabSize));
        } catch (RuntimeException e) {
            hf.close();
            throw e;
        }
    }

    /**
     * The ids of a text as it is: special tokens written in it become their ids, nothing is added around it.
     */
    public int[] encode(String text) {
        // Straight to the native encoder for the ids only: HuggingFaceTokenizer.encode would also copy out
        // tokens, offsets, masks and word ids, which this hot path never needs.
        long encoding = TokenizersLibrary.LIB.encode(hf.getHandle(), text, false);
        try {
            return toInts(TokenizersLibrary.LIB.getTokenIds(encoding));
        } finally {
            TokenizersLibrary.LIB.deleteEncoding(encoding);
        }
    }

    /** The ids of a prompt: as {@link #encode}, with the BOS token in front when the model wants one. */
    public int[] encodePrompt(String text) {
        int[] ids = encode(text);
        if (!addBos || bosId < 0 || (ids.length > 0 && ids[0] == bosId)) {
            return ids;
        }
        int[] withBos = new int[ids.length + 1];
        withBos[0] = bosId;
        System.arraycopy(ids, 0, withBos, 1, ids.length);
        return withBos;
    }

    /** The text of some ids, special tokens included as their text. */
    public String decode(int[] ids) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        return hf.decode(longs, false);
    }

    public int eosId() {
        return stopIds[0];
    }

    /** The ids that end a reply: EOS first, then end-of-turn when the model has a distinct one. */
    public int[] stopIds() {
        return stopIds.clone();
    }

    /** The number of token ids the tokenizer knows (the model's embedding table may be larger). */
    public int vocabSize() {
        return vocabSize;
    }

    /** Each id's raw bytes (what constrained sampling matches against). */
    public TokenBytes tokenBytes() {
        return tokenBytes;
    }

    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    public String formatChat(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return chatTemplate.render(messages, addGenerationPrompt);
    }

    @Override
    public void close() {
        hf.close();
    }

    private static int singleId(HuggingFaceTokenizer hf, String token, String what) {
        long[] ids = hf.encode(token, false, false).getIds();
        if (ids.length != 1) {
            throw new IllegalArgumentException(what + " '" + token + "' is not a single token of the vocabulary");
        }
        return (int) ids[0];
    }

    /** One more than the highest id in the model vocabulary or the added tokens. */
    private static int vocabSize(String tokenizerJson) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(tokenizerJson);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse the tokenizer.json document", e);
        }
        int max = -1;
        for (JsonNode id : root.path("model").path("vocab")) {
            max = Math.max(max, id.asInt());
        }
        for (JsonNode added : root.path("added_tokens")) {
            max = Math.max(max, added.path("id").asInt());
        }
        return max + 1;
    }

    private static int[] toInts(long[] ids) {
        int[] ints = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ints[i] = (int) ids[i];
        }
        return ints;
    }
}
