package dev.cna.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * The body of steering-service's {@code POST /generate} (steering-service/README.md): a raw prompt or chat messages,
 * sampling settings, and the circuits to steer with. Absent (null) fields take steering-service's defaults and are
 * left out of the JSON; steering-service refuses unknown fields and checks the ranges below.
 *
 * @param prompt       raw text, no chat template; exactly one of prompt and messages
 * @param messages     a chat, rendered with the model's chat template
 * @param maxTokens    tokens to generate, 1 to {@code cna.steering.max-tokens} (default 256)
 * @param temperature  0 = greedy, up to 2 (default 0.7)
 * @param topK         sample from the k most likely tokens, 0 = all (default 40)
 * @param topP         nucleus mass, (0, 1] (default 0.95)
 * @param seed         sampling seed (default random)
 * @param stop         up to 4 non-empty stop strings
 * @param steering     up to 16 circuits, each named once
 * @param steeringMode {@link #LIVE} (default) or {@link #PINNED}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GenerateRequest(
        String prompt,
        List<Message> messages,
        @JsonProperty("max_tokens") Integer maxTokens,
        Double temperature,
        @JsonProperty("top_k") Integer topK,
        @JsonProperty("top_p") Double topP,
        Long seed,
        List<String> stop,
        List<Steering> steering,
        @JsonProperty("steering_mode") String steeringMode) {

    /** steering_mode: a new circuit version applies from the next token; an unknown circuit runs unsteered until it exists. */
    public static final String LIVE = "live";
    /** steering_mode: the versions in the registry at the start are kept to the end; every circuit must exist. */
    public static final String PINNED = "pinned";

    /**
     * One chat turn.
     *
     * @param role    {@code system}, {@code user} or {@code assistant}
     * @param content the turn's text
     */
    public record Message(String role, String content) {}

    /**
     * A circuit and the factor for its neurons; both are required (a missing multiplier must not mean 0).
     *
     * @param circuit    the circuit name
     * @param multiplier 0 ablates, 1 leaves as is, > 1 amplifies; |m| <= 100
     */
    public record Steering(String circuit, Double multiplier) {}
}
