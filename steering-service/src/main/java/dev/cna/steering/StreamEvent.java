package dev.cna.steering;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Map;

/** What a generation stream carries; each record is one SSE event, named by {@link #name()}. */
public sealed interface StreamEvent {
    String name();

    /**
     * A piece of the reply.
     *
     * @param index    the generated token's position in the reply (0 = first)
     * @param token    the token id; absent on the last event when text held back to the end is released
     * @param circuits the circuit versions this token was generated under, by name
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Token(int index, Integer token, String text, Map<String, Long> circuits) implements StreamEvent {
        public String name() {
            return "token";
        }
    }

    /**
     * A steering circuit changed mid-stream; tokens from {@code index} on are generated under {@code to}.
     *
     * @param from the previous version, null if the circuit was not there
     * @param to   the new version, null if the circuit was deleted
     */
    record CircuitSwap(int index, String circuit, Long from, Long to) implements StreamEvent {
        public String name() {
            return "circuit";
        }
    }

    record Done(@JsonProperty("finish_reason") String finishReason, Usage usage, Timings timings,
                Map<String, Long> circuits) implements StreamEvent {
        public String name() {
            return "done";
        }
    }

    record Usage(@JsonProperty("prompt_tokens") int promptTokens, @JsonProperty("completion_tokens") int completionTokens,
                 @JsonProperty("total_tokens") int totalTokens) {}

    record Timings(@JsonProperty("queue_ms") double queueMs, @JsonProperty("prefill_ms") double prefillMs,
                   @JsonProperty("decode_ms") double decodeMs, @JsonProperty("tokens_per_second") double tokensPerSecond) {}

    /** The generation failed after the stream started; the stream ends after this event. */
    record Error(String title, String detail) implements StreamEvent {
        public String name() {
            return "error";
        }
    }
}
