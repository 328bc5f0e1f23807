package dev.cna.steering;

import dev.cna.api.StreamEvent;
import dev.cna.core.generate.TokenLogprobs;
import dev.cna.core.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Token ids as cna-api's {@link StreamEvent.Logprob}s: each id's text alone (decoded once, then cached) and its UTF-8
 * bytes. A token that holds part of a multi-byte character decodes to U+FFFD, whose bytes are then reported.
 */
final class TokenTexts {
    private final Tokenizer tokenizer;
    private final ConcurrentHashMap<Integer, String> texts = new ConcurrentHashMap<>();

    TokenTexts(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The text of one token alone. */
    String text(int id) {
        return texts.computeIfAbsent(id, i -> tokenizer.decode(new int[] {i}));
    }

    /** The UTF-8 bytes of a text, as unsigned ints (OpenAI's {@code bytes}). */
    static List<Integer> bytes(String text) {
        byte[] raw = text.getBytes(StandardCharsets.UTF_8);
        List<Integer> out = new ArrayList<>(raw.length);
        for (byte b : raw) {
            out.add(b & 0xFF);
        }
        return out;
    }

    StreamEvent.Logprob logprob(int id, double logprob) {
        String text = text(id);
        return new StreamEvent.Logprob(id, text, bytes(text), logprob);
    }

    /** The alternatives of a position, most likely first. */
    List<StreamEvent.Logprob> top(TokenLogprobs lp) {
        return lp.top().stream().map(a -> logprob(a.token(), a.logprob())).toList();
    }
}
