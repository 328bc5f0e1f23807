package dev.cna.gateway;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cna.api.StreamEvent;

import java.util.List;
import java.util.Map;

/** The OpenAI wire format the gateway answers in (the fields it fills), plus its {@code cna} extension. */
public final class OpenAi {
    private OpenAi() {}

    /** One {@code chat.completion.chunk} of a stream. */
    public record Chunk(String id, String object, long created, String model, List<ChunkChoice> choices,
                        @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage,
                        @JsonInclude(JsonInclude.Include.NON_NULL) Cna cna) {}

    /** finish_reason is null until the last chunk, and written as null (clients look for it). */
    public record ChunkChoice(int index, Delta delta, @JsonProperty("finish_reason") String finishReason) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content) {}

    /** A whole {@code chat.completion} (stream false). */
    public record Completion(String id, String object, long created, String model, List<Choice> choices, Usage usage,
                             @JsonInclude(JsonInclude.Include.NON_NULL) Cna cna) {}

    public record Choice(int index, Message message, @JsonProperty("finish_reason") String finishReason) {}

    public record Message(String role, String content) {}

    public record Usage(@JsonProperty("prompt_tokens") int promptTokens,
                        @JsonProperty("completion_tokens") int completionTokens,
                        @JsonProperty("total_tokens") int totalTokens) {}

    /**
     * The steering extension: the circuit versions a chunk was generated under ({@code circuits}, name to
     * version), or a swap ({@code circuit}: steering-service's {@code circuit} event, {@code {index, circuit, from, to}}).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Cna(Map<String, Long> circuits, StreamEvent.CircuitSwap circuit) {}

    public record Model(String id, String object, long created, @JsonProperty("owned_by") String ownedBy) {}

    public record ModelList(String object, List<Model> data) {}
}
