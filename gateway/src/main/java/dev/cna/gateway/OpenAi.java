package dev.cna.gateway;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cna.api.Problem;
import dev.cna.api.StreamEvent;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The OpenAI wire format the gateway answers in (the fields it fills), plus its {@code cna} extension. */
public final class OpenAi {
    private OpenAi() {}

    /** One {@code chat.completion.chunk} of a stream. */
    public record Chunk(String id, String object, long created, String model, List<ChunkChoice> choices,
                        @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage,
                        @JsonInclude(JsonInclude.Include.NON_NULL) Cna cna) {}

    /**
     * finish_reason is null until the last chunk, and written as null (clients look for it); logprobs only when the
     * request asked for them.
     */
    public record ChunkChoice(int index, Delta delta, @JsonProperty("finish_reason") String finishReason,
                              @JsonInclude(JsonInclude.Include.NON_NULL) OpenAiLogprobs.Chat logprobs) {
        public ChunkChoice(int index, Delta delta, String finishReason) {
            this(index, delta, finishReason, null);
        }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content, @JsonProperty("tool_calls") List<ToolCall> toolCalls) {
        public Delta(String role, String content) {
            this(role, content, null);
        }
    }

    /**
     * A function call the model made: in a stream's delta with its {@code index} (the whole call in one delta), in a
     * message without.
     *
     * @param index the call's position among the reply's calls (streamed deltas only), else null
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ToolCall(Integer index, String id, String type, FunctionCall function) {
        /** The call as a message lists it (no index). */
        public ToolCall inMessage() {
            return new ToolCall(null, id, type, function);
        }
    }

    /** @param arguments the arguments as a JSON object's text, as OpenAI sends them */
    public record FunctionCall(String name, String arguments) {}

    /** A whole {@code chat.completion} (stream false). */
    public record Completion(String id, String object, long created, String model, List<Choice> choices, Usage usage,
                             @JsonInclude(JsonInclude.Include.NON_NULL) Cna cna) {}

    /** logprobs is null when the request did not ask for them (written, as OpenAI does). */
    public record Choice(int index, Message message, @JsonProperty("finish_reason") String finishReason,
                         OpenAiLogprobs.Chat logprobs) {
        public Choice(int index, Message message, String finishReason) {
            this(index, message, finishReason, null);
        }
    }

    /** content is null (and written as null) when the reply is only tool calls. */
    public record Message(String role, String content,
                          @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("tool_calls") List<ToolCall> toolCalls) {
        public Message(String role, String content) {
            this(role, content, null);
        }
    }

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

    /**
     * OpenAI's error envelope, what its SDKs read into their exceptions: {@code {"error": {"message", "type", "param",
     * "code"}}}. The gateway answers {@code /v1/*} errors in it (OpenAI API reference, "Error codes").
     */
    public record ErrorBody(ErrorDetail error) {}

    /**
     * @param message the reason, as the problem's detail says it
     * @param type    OpenAI's error class: invalid_request_error, authentication_error, permission_error,
     *                not_found_error, rate_limit_error, server_error or service_unavailable_error
     * @param param   the request field at fault, when the reason names one; else null
     * @param code    the platform's problem slug (invalid-request, queue-full, ...), as in the problem type URN
     */
    public record ErrorDetail(String message, String type, String param, String code) {}

    /** A request field named at the start of a reason: "max_tokens must be ...", "messages[0].role must be ...". */
    private static final Pattern PARAM = Pattern.compile("^([a-z_]+(?:\\[\\d+\\])?(?:\\.[a-z_]+)*) (?:must|takes|is|needs|has)\\b");

    /** A problem in OpenAI's envelope. */
    public static ErrorBody error(Problem problem) {
        String detail = problem.detail() == null || problem.detail().isEmpty() ? problem.title() : problem.detail();
        Matcher m = PARAM.matcher(detail);
        return new ErrorBody(new ErrorDetail(detail, errorType(problem.status()), m.find() ? m.group(1) : null,
                problem.type() != null && problem.type().startsWith(Problem.TYPE_PREFIX)
                        ? problem.type().substring(Problem.TYPE_PREFIX.length()) : Problem.slugOf(problem.title())));
    }

    private static String errorType(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 429 -> "rate_limit_error";
            case 503 -> "service_unavailable_error";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
    }
}
