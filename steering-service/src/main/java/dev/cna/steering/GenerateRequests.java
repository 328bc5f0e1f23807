package dev.cna.steering;

import dev.cna.api.GenerateRequest;
import dev.cna.api.Problem;
import dev.cna.api.ProblemType;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.generate.SamplingControls;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.tokenizer.ChatMessage;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Checks a {@link GenerateRequest} (the body of POST /generate, in cna-api) and maps it onto the engine's types.
 * Absent fields take the defaults below; every refusal is a 400 problem that says exactly what is wrong.
 */
final class GenerateRequests {
    static final int DEFAULT_MAX_TOKENS = 256;
    static final float DEFAULT_TEMPERATURE = 0.7f;
    static final int DEFAULT_TOP_K = 40;
    static final float DEFAULT_TOP_P = 0.95f;
    static final int MAX_STOP_STRINGS = 4;
    static final int MAX_CIRCUITS = 16;
    static final double MAX_MULTIPLIER = 100;
    private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

    private GenerateRequests() {}

    /**
     * Checks every field; returns the sampling settings.
     *
     * @param vocab the model's vocabulary size (logit_bias and prompt_tokens ids)
     */
    static SamplingParams validate(GenerateRequest request, int maxTokensLimit, int vocab) {
        int prompts = (request.prompt() == null ? 0 : 1) + (request.messages() == null ? 0 : 1) + (request.promptTokens() == null ? 0 : 1);
        if (prompts != 1) {
            throw ProblemException.badRequest("give exactly one of prompt (raw text), prompt_tokens (token ids) and messages (a chat)");
        }
        SamplingControlsRequests.promptTokens(request.promptTokens(), vocab, "prompt_tokens");
        SamplingControls controls = SamplingControlsRequests.controls(request, vocab);
        if (request.prompt() != null && request.prompt().isEmpty()) {
            throw ProblemException.badRequest("prompt must not be empty");
        }
        if (request.messages() != null) {
            if (request.messages().isEmpty()) {
                throw ProblemException.badRequest("messages must not be empty");
            }
            for (int i = 0; i < request.messages().size(); i++) {
                GenerateRequest.Message m = request.messages().get(i);
                if (m == null || m.role() == null || !ROLES.contains(m.role()) || (m.content() == null && m.toolCalls() == null)) {
                    throw ProblemException.badRequest("messages[" + i + "] needs a role (system, user, assistant or tool) and a content string (or tool_calls)");
                }
            }
        }
        int max = request.maxTokens() == null ? Math.min(DEFAULT_MAX_TOKENS, maxTokensLimit) : request.maxTokens();
        if (max < 1 || max > maxTokensLimit) {
            throw ProblemException.badRequest("max_tokens must be 1 to " + maxTokensLimit + ", got " + max);
        }
        List<String> stops = request.stop() == null ? List.of() : request.stop();
        if (stops.size() > MAX_STOP_STRINGS || stops.stream().anyMatch(s -> s == null || s.isEmpty())) {
            throw ProblemException.badRequest("stop takes at most " + MAX_STOP_STRINGS + " non-empty strings");
        }
        validateSteering(request.steering(), request.steeringMode());
        StructuredOutput.validate(request);
        try {
            return new SamplingParams(
                    request.temperature() == null ? DEFAULT_TEMPERATURE : request.temperature().floatValue(),
                    request.topK() == null ? DEFAULT_TOP_K : request.topK(),
                    request.topP() == null ? DEFAULT_TOP_P : request.topP().floatValue(),
                    request.seed() == null ? ThreadLocalRandom.current().nextLong() : request.seed(), max, stops, controls);
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest(e.getMessage().replace("topK", "top_k").replace("topP", "top_p"));
        }
    }

    /** Checks a steering list and mode (of a generate or a score request). */
    static void validateSteering(List<GenerateRequest.Steering> steering, String steeringMode) {
        List<GenerateRequest.Steering> list = steering == null ? List.of() : steering;
        if (list.size() > MAX_CIRCUITS) {
            throw ProblemException.badRequest("at most " + MAX_CIRCUITS + " circuits per request, got " + list.size());
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            GenerateRequest.Steering s = list.get(i);
            if (s == null || s.circuit() == null || !Circuit.NAME.matcher(s.circuit()).matches()) {
                throw ProblemException.badRequest("steering[" + i + "].circuit must be a circuit name ("
                        + Circuit.NAME.pattern() + ")");
            }
            if (s.multiplier() == null || !Double.isFinite(s.multiplier()) || Math.abs(s.multiplier()) > MAX_MULTIPLIER) {
                throw ProblemException.badRequest("steering[" + i + "].multiplier must be a number from -" + MAX_MULTIPLIER
                        + " to " + MAX_MULTIPLIER + ", got " + s.multiplier());
            }
            if (!seen.add(s.circuit())) {
                throw ProblemException.badRequest("circuit " + s.circuit() + " is named twice in steering");
            }
        }
        mode(steeringMode);
    }

    /** The chat of a validated request, for the tokenizer's chat template (null for a raw prompt). */
    static List<ChatMessage> messages(GenerateRequest request) {
        return request.messages() == null ? null
                : request.messages().stream().map(StructuredOutput::chatMessage).toList();
    }

    /** The steering entries of a validated request. */
    static List<GenerationJob.Steering> circuits(List<GenerateRequest.Steering> steering) {
        return steering == null ? List.of()
                : steering.stream().map(s -> new GenerationJob.Steering(s.circuit(), s.multiplier().floatValue())).toList();
    }

    /** Pinned steering needs every circuit in the registry now: else 404 unknown-circuit. */
    static void requirePinned(GenerationJob.Mode mode, List<GenerationJob.Steering> circuits, CircuitRegistry registry) {
        if (mode != GenerationJob.Mode.PINNED) {
            return;
        }
        for (GenerationJob.Steering s : circuits) {
            if (registry.get(s.circuit()).isEmpty()) {
                throw new ProblemException(Problem.of(ProblemType.UNKNOWN_CIRCUIT,
                        "circuit " + s.circuit() + " is not in the registry; pinned steering needs circuits that exist"));
            }
        }
    }

    static GenerationJob.Mode mode(String mode) {
        if (mode == null) {
            return GenerationJob.Mode.LIVE;
        }
        try {
            return GenerationJob.Mode.valueOf(mode.toUpperCase(Locale.ROOT)); // GenerateRequest.LIVE or PINNED, any case
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest("steering_mode must be " + GenerateRequest.LIVE + " or " + GenerateRequest.PINNED
                    + ", got " + mode);
        }
    }
}
