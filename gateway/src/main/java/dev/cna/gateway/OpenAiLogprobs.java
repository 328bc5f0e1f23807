package dev.cna.gateway;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cna.api.StreamEvent;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's two log-probability shapes, filled from steering-service's token events: chat's
 * {@code choices[].logprobs.content[]} and the legacy completions' {@code tokens}, {@code token_logprobs},
 * {@code top_logprobs} (a dict per position), {@code text_offset} (OpenAI API reference; vLLM answers the same).
 */
public final class OpenAiLogprobs {
    private OpenAiLogprobs() {}

    /** Chat: {@code {"content": [...]}}, one entry per generated token. */
    public record Chat(List<Content> content) {}

    /** One generated token: its text, log-probability, UTF-8 bytes and the most likely tokens at its position. */
    public record Content(String token, double logprob, List<Integer> bytes,
                          @JsonProperty("top_logprobs") List<Top> topLogprobs) {}

    /** One alternative at a position. */
    public record Top(String token, double logprob, List<Integer> bytes) {}

    /**
     * Legacy completions, parallel lists over the choice's tokens (prompt tokens first when echoed).
     *
     * @param tokens        each token's text
     * @param tokenLogprobs each token's log-probability; null for the first prompt token
     * @param topLogprobs   per position, token text to log-probability of the most likely tokens and the chosen one
     *                      (so up to logprobs + 1 entries, as vLLM); null for the first prompt token
     * @param textOffset    each token's character offset in the choice's text
     */
    public record Legacy(List<String> tokens, @JsonProperty("token_logprobs") List<Double> tokenLogprobs,
                         @JsonProperty("top_logprobs") List<Map<String, Double>> topLogprobs,
                         @JsonProperty("text_offset") List<Integer> textOffset) {}

    /** A token event's chosen token in chat's shape; null when the event carries no log-probability. */
    static Content content(StreamEvent.Token token) {
        if (token.logprob() == null) {
            return null;
        }
        String text = text(token);
        List<Top> top = new ArrayList<>();
        for (StreamEvent.Logprob l : token.topLogprobs() == null ? List.<StreamEvent.Logprob>of() : token.topLogprobs()) {
            top.add(new Top(l.text(), l.logprob(), l.bytes()));
        }
        return new Content(text, token.logprob(), bytes(token, text), top);
    }

    /**
     * The chosen token's own text: from the alternatives when it is among them (always for greedy picks), else the
     * text the event released (which may hold back part of a character or a possible stop string).
     */
    static String text(StreamEvent.Token token) {
        StreamEvent.Logprob own = own(token);
        return own != null ? own.text() : token.text() == null ? "" : token.text();
    }

    private static List<Integer> bytes(StreamEvent.Token token, String text) {
        StreamEvent.Logprob own = own(token);
        return own != null ? own.bytes() : StreamEvent.Logprob.utf8(text);
    }

    private static StreamEvent.Logprob own(StreamEvent.Token token) {
        if (token.topLogprobs() == null || token.token() == null) {
            return null;
        }
        return token.topLogprobs().stream().filter(l -> l.token() == token.token()).findFirst().orElse(null);
    }

    /** Builds a {@link Legacy} a token at a time; offsets count the characters of the texts added so far. */
    static final class LegacyBuilder {
        private final List<String> tokens = new ArrayList<>();
        private final List<Double> logprobs = new ArrayList<>();
        private final List<Map<String, Double>> tops = new ArrayList<>();
        private final List<Integer> offsets = new ArrayList<>();
        private int offset;

        LegacyBuilder(int offset) {
            this.offset = offset;
        }

        /** @param top alternatives (with the chosen token added), null for a position without prediction */
        void add(String text, Double logprob, Map<String, Double> top) {
            tokens.add(text);
            logprobs.add(logprob);
            tops.add(top);
            offsets.add(offset);
            offset += text.length();
        }

        /** A position's dict: the alternatives by text, then the chosen token (vLLM's "logprobs + 1"). */
        static Map<String, Double> top(List<StreamEvent.Logprob> alternatives, String chosen, double logprob) {
            Map<String, Double> out = new LinkedHashMap<>();
            for (StreamEvent.Logprob l : alternatives) {
                out.putIfAbsent(l.text(), l.logprob());
            }
            out.putIfAbsent(chosen, logprob);
            return out;
        }

        boolean isEmpty() {
            return tokens.isEmpty();
        }

        Legacy build() {
            return new Legacy(List.copyOf(tokens), new ArrayList<>(logprobs), new ArrayList<>(tops), List.copyOf(offsets));
        }
    }
}
