package dev.cna.gateway;

import dev.cna.api.GenerateRequest;
/**
 * A validated OpenAI chat completion request.
 *
 * @param generate     what steering-service is asked for
 * @param stream       SSE chunks (true) or one JSON completion
 * @param includeUsage {@code stream_options.include_usage}: a usage chunk before {@code [DONE]}
 * @param n            choices, 1 to {@code cna.gateway.max-choices}
 */
public record ChatRequest(GenerateRequest generate, boolean stream, boolean includeUsage, int n) {
    public ChatRequest(GenerateRequest generate, boolean stream, boolean includeUsage) {
        this(generate, stream, includeUsage, 1);
    }

    /** Whether the model may call tools: tools given and tool_choice not none (the reply's calls are then parsed). */
    public boolean offersTools() {
        return generate.tools() != null && !generate.tools().isEmpty() && !"none".equals(generate.toolChoice());
    }
}
