package dev.cna.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The raw bytes each token id stands for, read from a tokenizer.json document. Decoding one id through the
 * tokenizer is lossy (a token holding part of a UTF-8 character decodes to U+FFFD); constrained sampling needs the
 * exact bytes. Byte-level BPE vocabularies (GPT-2's byte-to-unicode alphabet, Hugging Face's {@code ByteLevel}
 * decoder) and SentencePiece ones ({@code ▁} for a space, {@code <0xNN>} byte-fallback tokens) are read; special
 * added tokens (control tokens such as {@code <|im_end|>}) have no text bytes (null).
 */
public final class TokenBytes {
    private static final char SPIECE_SPACE = '\u2581';

    private final byte[][] bytes;
    private Sorted sorted;

    private TokenBytes(byte[][] bytes) {
        this.bytes = bytes;
    }

    /**
     * @param tokenizerJson a Hugging Face tokenizer.json document
     * @param vocabSize     ids 0 to vocabSize - 1 are read; ids absent from the document have no bytes
     */
    public static TokenBytes of(String tokenizerJson, int vocabSize) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(tokenizerJson);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse the tokenizer.json document", e);
        }
        boolean byteLevel = root.path("decoder").toString().contains("\"ByteLevel\"");
        Map<Integer, Integer> unicodeToByte = byteLevel ? unicodeToByte() : Map.of();
        byte[][] bytes = new byte[vocabSize][];
        root.path("model").path("vocab").fields().forEachRemaining(e -> {
            int id = e.getValue().asInt();
            if (id >= 0 && id < vocabSize) {
                bytes[id] = byteLevel ? byteLevel(e.getKey(), unicodeToByte) : sentencePiece(e.getKey());
            }
        });
        for (JsonNode added : root.path("added_tokens")) {
            int id = added.path("id").asInt();
            if (id >= 0 && id < vocabSize) {
                bytes[id] = added.path("special").asBoolean() ? null : added.path("content").asText().getBytes(StandardCharsets.UTF_8);
            }
        }
        return new TokenBytes(bytes);
    }

    /** The token's bytes (not to be modified), or null for a special token or an unknown id. */
    public byte[] bytes(int id) {
        return id >= 0 && id < bytes.length ? bytes[id] : null;
    }

    public int size() {
        return bytes.length;
    }

    /**
     * The ids with text bytes in byte-wise lexicographic order, and how many leading bytes each shares with the one
     * before it: a walk in this order reuses the matcher state of the shared prefix (a trie walk without a trie).
     */
    public record Sorted(int[] ids, int[] sharedPrefix, int longest) {}

    /** Built on first use, then kept. */
    public synchronized Sorted sorted() {
        if (sorted == null) {
            Integer[] ids = java.util.stream.IntStream.range(0, bytes.length)
                    .filter(i -> bytes[i] != null && bytes[i].length > 0).boxed().toArray(Integer[]::new);
            Arrays.sort(ids, (a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]));
            int[] order = new int[ids.length];
            int[] shared = new int[ids.length];
            int longest = 0;
            for (int i = 0; i < ids.length; i++) {
                order[i] = ids[i];
                longest = Math.max(longest, bytes[ids[i]].length);
                if (i > 0) {
                    int mismatch = Arrays.mismatch(bytes[ids[i - 1]], bytes[ids[i]]);
                    shared[i] = mismatch < 0 ? bytes[ids[i]].length : mismatch;
                }
            }
            sorted = new Sorted(order, shared, longest);
        }
        return sorted;
    }

    private static byte[] byteLevel(String token, Map<Integer, Integer> unicodeToByte) {
        byte[] out = new byte[token.length()];
        int n = 0;
        for (int i = 0; i < token.length(); ) {
            int cp = token.codePointAt(i);
            i += Character.charCount(cp);
            Integer b = unicodeToByte.get(cp);
            if (b == null) {
                return token.getBytes(StandardCharsets.UTF_8); // not in the byte alphabet: a literal (added) token
            }
            out[n++] = (byte) (int) b;
        }
        return Arrays.copyOf(out, n);
    }

    private static byte[] sentencePiece(String token) {
        if (token.length() == 6 && token.startsWith("<0x") && token.endsWith(">")) {
            return new byte[] {(byte) Integer.parseInt(token.substring(3, 5), 16)};
        }
        return token.replace(SPIECE_SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }

    /** GPT-2's bytes_to_unicode, inverted: printable Latin-1 bytes map to themselves, the rest to U+0100 on. */
    private static Map<Integer, Integer> unicodeToByte() {
        Map<Integer, Integer> map = new HashMap<>();
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map.put(printable ? b : 256 + extra++, b);
        }
        return map;
    }
}
