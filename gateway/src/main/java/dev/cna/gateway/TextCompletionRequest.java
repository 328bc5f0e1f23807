package dev.cna.gateway;

import dev.cna.api.GenerateRequest;

import java.util.List;

/**
 * A validated OpenAI legacy completions request ({@code POST /v1/completions}).
 *
 * @param prompts      one entry per prompt: text or token ids
 * @param generate     what steering-service is asked for per prompt (sampling, stop, steering, logprobs), without
 *                     its prompt; max_tokens null when the request only scores (max_tokens 0)
 * @param echo         the prompt comes back in front of the completion (with its log-probabilities when asked)
 * @param logprobs     0 to 5 alternatives per token, or null for no log-probabilities
 * @param stream       SSE chunks or one JSON answer
 * @param includeUsage {@code stream_options.include_usage}
 */
public record TextCompletionRequest(List<Prompt> prompts, GenerateRequest generate, boolean echo, Integer logprobs,
                                    boolean stream, boolean includeUsage) {
    /** A prompt as text, or as token ids (taken as they are). */
    public record Prompt(String text, List<Integer> tokens) {}

    /** Whether the request generates (max_tokens > 0) or only scores its prompts. */
    public boolean generates() {
        return generate.maxTokens() != null;
    }

    /** The generate request for one prompt. */
    public GenerateRequest generateFor(Prompt prompt) {
        GenerateRequest g = generate;
        return new GenerateRequest(prompt.text(), null, g.maxTokens(), g.temperature(), g.topK(), g.topP(), g.seed(),
                g.stop(), g.steering(), g.steeringMode(), g.logprobs(), g.presencePenalty(), g.frequencyPenalty(),
                g.repetitionPenalty(), g.minP(), g.logitBias(), prompt.tokens(), null, null, null);
    }
}
