package dev.cna.gateway;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/** OpenAI's legacy completions answer ({@code text_completion}, whole or as stream chunks), with the {@code cna} extension. */
public final class OpenAiText {
    private OpenAiText() {}

    /** A whole answer, or one chunk of a stream (same object name, as OpenAI sends). */
    public record Completion(String id, String object, long created, String model, List<Choice> choices,
                             @JsonInclude(JsonInclude.Include.NON_NULL) OpenAi.Usage usage,
                             @JsonInclude(JsonInclude.Include.NON_NULL) OpenAi.Cna cna) {}

    /**
     * One choice (one per prompt, index = the prompt's position).
     *
     * @param text         the completion, after the prompt when echoed (in a chunk: the next piece)
     * @param logprobs     null unless the request asked for logprobs (written as null, as OpenAI does)
     * @param finishReason null until the choice ends: {@code stop} or {@code length} (also for max_tokens 0)
     */
    public record Choice(int index, String text, OpenAiLogprobs.Legacy logprobs,
                         @JsonProperty("finish_reason") String finishReason) {}
}
