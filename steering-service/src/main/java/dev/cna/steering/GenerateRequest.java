package dev.cna.steering;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cna.core.cna.Circuit;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.tokenizer.ChatMessage;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The body of POST /generate: a raw prompt or chat messages, sampling settings, and the circuits to steer
 * with. Absent fields take the defaults below; {@link #validate} says exactly what is wrong.
 */
public record GenerateRequest(
        String prompt,
        List<ChatMessage> messages,
        @JsonProperty("max_tokens") Integer maxTokens,
        Float temperature,
        @JsonProperty("top_k") Integer topK,
        @JsonProperty("top_p") Float topP,
        Long seed,
        List<String> stop,
        List<CircuitMultiplier> steering,
        @JsonProperty("steering_mode") String steeringMode) {

    /** One entry of {@code steering}; both fields are required (a missing multiplier must not mean 0). */
    public record CircuitMultiplier(String circuit, Float multiplier) {}

    static final int DEFAULT_MAX_TOKENS = 256;
    static final int MAX_STOP_STRINGS = 4;
    static final int MAX_CIRCUITS = 16;
    static final float MAX_MULTIPLIER = 100f;
    private static final Set<String> ROLES = Set.of("system", "user", "assistant");

    /** Checks every field; returns the sampling settings. */
    SamplingParams validate(int maxTokensLimit) {
        if ((prompt == null) == (messages == null)) {
            throw ProblemException.badRequest("give exactly one of prompt (raw text) and messages (a chat)");
        }
        if (prompt != null && prompt.isEmpty()) {
            throw ProblemException.badRequest("prompt must not be empty");
        }
        if (messages != null) {
            if (messages.isEmpty()) {
                throw ProblemException.badRequest("messages must not be empty");
            }
            for (int i = 0; i < messages.size(); i++) {
                ChatMessage m = messages.get(i);
                if (m == null || m.role() == null || !ROLES.contains(m.role()) || m.content() == null) {
                    throw ProblemException.badRequest("messages[" + i + "] needs a role (system, user or assistant) and a content string");
                }
            }
        }
        int max = maxTokens == null ? Math.min(DEFAULT_MAX_TOKENS, maxTokensLimit) : maxTokens;
        if (max < 1 || max > maxTokensLimit) {
            throw ProblemException.badRequest("max_tokens must be 1 to " + maxTokensLimit + ", got " + max);
        }
        List<String> stops = stop == null ? List.of() : stop;
        if (stops.size() > MAX_STOP_STRINGS || stops.stream().anyMatch(s -> s == null || s.isEmpty())) {
            throw ProblemException.badRequest("stop takes at most " + MAX_STOP_STRINGS + " non-empty strings");
        }
        validateSteering();
        try {
            return new SamplingParams(temperature == null ? 0.7f : temperature, topK == null ? 40 : topK,
                    topP == null ? 0.95f : topP, seed == null ? ThreadLocalRandom.current().nextLong() : seed, max, stops);
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest(e.getMessage().replace("topK", "top_k").replace("topP", "top_p"));
        }
    }

    private void validateSteering() {
        List<CircuitMultiplier> list = steering == null ? List.of() : steering;
        if (list.size() > MAX_CIRCUITS) {
            throw ProblemException.badRequest("at most " + MAX_CIRCUITS + " circuits per request, got " + list.size());
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            CircuitMultiplier s = list.get(i);
            if (s == null || s.circuit() == null || !Circuit.NAME.matcher(s.circuit()).matches()) {
                throw ProblemException.badRequest("steering[" + i + "].circuit must be a circuit name ("
                        + Circuit.NAME.pattern() + ")");
            }
            if (s.multiplier() == null || !Float.isFinite(s.multiplier()) || Math.abs(s.multiplier()) > MAX_MULTIPLIER) {
                throw ProblemException.badRequest("steering[" + i + "].multiplier must be a number from -" + MAX_MULTIPLIER
                        + " to " + MAX_MULTIPLIER + ", got " + s.multiplier());
            }
            if (!seen.add(s.circuit())) {
                throw ProblemException.badRequest("circuit " + s.circuit() + " is named twice in steering");
            }
        }
        mode();
    }

    /** The validated steering entries. */
    List<GenerationJob.Steering> circuits() {
        return steering == null ? List.of()
                : steering.stream().map(s -> new GenerationJob.Steering(s.circuit(), s.multiplier())).toList();
    }

    GenerationJob.Mode mode() {
        if (steeringMode == null) {
            return GenerationJob.Mode.LIVE;
        }
        try {
            return GenerationJob.Mode.valueOf(steeringMode.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest("steering_mode must be live or pinned, got " + steeringMode);
        }
    }
}
