package dev.cna.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;

/**
 * What a generation stream ({@code POST /generate}, steering-service/README.md) carries: each record is the data of
 * one server-sent event, named by {@link #name()}: {@code prefill} progress while a long prompt is prefilled in
 * chunks, {@code token}s and {@code circuit} swaps, then {@code done} or {@code error}. Unknown fields are ignored on reading, so a newer steering-service does not break an older reader.
 */
public sealed interface StreamEvent {
    String PREFILL = "prefill";
    String TOKEN = "token";
    String CIRCUIT = "circuit";
    String DONE = "done";
    String ERROR = "error";

    /** The record type of each event name, for readers of the stream. */
    Map<String, Class<? extends StreamEvent>> TYPES =
            Map.of(PREFILL, Prefill.class, TOKEN, Token.class, CIRCUIT, CircuitSwap.class, DONE, Done.class, ERROR, Error.class);

    /** The SSE event name. */
    @JsonIgnore
    String name();

    /**
     * Progress of a prompt that takes more than one prefill chunk, after each chunk: the first token follows when
     * done reaches total. Also keeps idle-timeout proxies from closing a stream whose prompt is long.
     *
     * @param done  prompt positions prefilled so far (left padding of a shared batch included)
     * @param total prompt positions to prefill
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Prefill(int done, int total) implements StreamEvent {
        @Override
        public String name() {
            return PREFILL;
        }
    }

    /**
     * A piece of the reply.
     *
     * @param index    the generated token's position in the reply (0 = first)
     * @param token    the token id; absent on the last event when text held back to the end (a possible stop string,
     *                 an incomplete UTF-8 character) is released
     * @param text     the token's text (may be empty while held back)
     * @param circuits the circuit versions this token was generated under, by name
     * @param logprob  when the request asked for {@code logprobs}: natural log of the token's probability under the
     *                 steered model's distribution before temperature, top-k/top-p, min-p, penalties and bias (absent
     *                 on the event without a token)
     * @param topLogprobs with logprob: the {@code logprobs} most likely tokens at this position, most likely first
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Token(int index, Integer token, String text, Map<String, Long> circuits, Double logprob,
                 @JsonProperty("top_logprobs") List<Logprob> topLogprobs) implements StreamEvent {
        /** A token without log-probabilities. */
        public Token(int index, Integer token, String text, Map<String, Long> circuits) {
            this(index, token, text, circuits, null, null);
        }

        @Override
        public String name() {
            return TOKEN;
        }
    }

    /**
     * One candidate token at a position.
     *
     * @param token   the token id
     * @param text    its text alone (a piece of a multi-byte character decodes to U+FFFD)
     * @param bytes   the UTF-8 bytes of that text, 0 to 255 each
     * @param logprob natural log of its probability
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Logprob(int token, String text, List<Integer> bytes, double logprob) {
        /** The UTF-8 bytes of a text as unsigned ints, OpenAI's {@code bytes}. */
        public static List<Integer> utf8(String text) {
            byte[] raw = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            List<Integer> out = new java.util.ArrayList<>(raw.length);
            for (byte b : raw) {
                out.add(b & 0xFF);
            }
            return out;
        }
    }

    /**
     * A steering circuit changed mid-stream; tokens from {@code index} on are generated under {@code to}.
     *
     * @param index   the first token under the new version
     * @param circuit the circuit name
     * @param from    the previous version, null if the circuit was not there
     * @param to      the new version, null if the circuit was deleted
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record CircuitSwap(int index, String circuit, Long from, Long to) implements StreamEvent {
        @Override
        public String name() {
            return CIRCUIT;
        }
    }

    /**
     * The generation ended; the stream ends after this event.
     *
     * @param finishReason {@link #STOP} (end of turn or a stop string), {@link #LENGTH} (max_tokens or the context) or
     *                     {@link #CANCELLED}
     * @param circuits     the circuit versions at the end, by name
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Done(@JsonProperty("finish_reason") String finishReason, Usage usage, Timings timings,
                Map<String, Long> circuits) implements StreamEvent {
        public static final String STOP = "stop";
        public static final String LENGTH = "length";
        public static final String CANCELLED = "cancelled";

        @Override
        public String name() {
            return DONE;
        }
    }

    /** Token counts of a generation (OpenAI's field names). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Usage(@JsonProperty("prompt_tokens") int promptTokens, @JsonProperty("completion_tokens") int completionTokens,
                 @JsonProperty("total_tokens") int totalTokens) {}

    /**
     * Where a generation's time went.
     *
     * @param queueMs         milliseconds from arrival to admission into the batch
     * @param prefillMs       milliseconds of prompt prefill
     * @param decodeMs        milliseconds of decoding
     * @param tokensPerSecond generated tokens per second of decoding
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Timings(@JsonProperty("queue_ms") double queueMs, @JsonProperty("prefill_ms") double prefillMs,
                   @JsonProperty("decode_ms") double decodeMs, @JsonProperty("tokens_per_second") double tokensPerSecond) {}

    /**
     * The generation failed after the stream started; the stream ends after this event.
     *
     * @param title  what failed, short
     * @param detail why
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Error(String title, String detail) implements StreamEvent {
        @Override
        public String name() {
            return ERROR;
        }
    }
}
