package dev.cna.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;

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
 * @param logprobs     0 to 20: every token event carries the token's log-probability and this many most likely
 *                     alternatives ({@link StreamEvent.Token#logprob()}, {@link StreamEvent.Token#topLogprobs()});
 *                     absent = none
 * @param presencePenalty   -2 to 2, OpenAI's: subtracted from the logit of every token the reply already has (0)
 * @param frequencyPenalty  -2 to 2, OpenAI's: subtracted once per occurrence in the reply (0)
 * @param repetitionPenalty > 0, vLLM's and llama.cpp's: logits of tokens in the prompt or the reply divided by it
 *                          when positive, multiplied when negative (1 = off)
 * @param minP              0 to 1: tokens below min_p x the most likely token's probability are not sampled (0)
 * @param logitBias         token id (as a JSON key) to -100..100, added to its logit; at most 300 entries
 * @param promptTokens      the prompt as token ids instead of text (no BOS added); exclusive with prompt and messages
 * @param jsonSchema   a JSON schema (an object) the reply must be a document of, enforced token by token; its root is
 *                     an object schema ({@code {"type": "object"}} = any JSON object); unsupported keywords are a 400
 *                     naming them (steering-service/README.md lists the subset)
 * @param tools        OpenAI function tools ({@code {"type": "function", "function": {"name", "description",
 *                     "parameters"}}}), given to the model's chat template; a template without tool support is a 400
 * @param toolChoice   a string {@code "none"}, {@code "auto"} (default with tools), {@code "required"} or
 *                     {@code {"type": "function", "function": {"name": NAME}}}; required and named ones are enforced as
 *                     one {@link ToolCallSyntax} call of a tool by its parameters' schema
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
        @JsonProperty("steering_mode") String steeringMode,
        Integer logprobs,
        @JsonProperty("presence_penalty") Double presencePenalty,
        @JsonProperty("frequency_penalty") Double frequencyPenalty,
        @JsonProperty("repetition_penalty") Double repetitionPenalty,
        @JsonProperty("min_p") Double minP,
        @JsonProperty("logit_bias") Map<String, Double> logitBias,
        @JsonProperty("prompt_tokens") List<Integer> promptTokens,
        @JsonProperty("json_schema") Map<String, Object> jsonSchema,
        List<Map<String, Object>> tools,
        @JsonProperty("tool_choice") Object toolChoice) {

    /** A request without log-probabilities, penalties, bias, min-p, token-id prompt, structured output or tools. */
    public GenerateRequest(String prompt, List<Message> messages, Integer maxTokens, Double temperature, Integer topK,
                           Double topP, Long seed, List<String> stop, List<Steering> steering, String steeringMode) {
        this(prompt, messages, maxTokens, temperature, topK, topP, seed, stop, steering, steeringMode,
                null, null, null, null, null, null, null, null, null, null);
    }

    /** This request with a JSON schema for the reply, tools and a tool choice (each null = none). */
    public GenerateRequest withStructure(Map<String, Object> jsonSchema, List<Map<String, Object>> tools, Object toolChoice) {
        return new GenerateRequest(prompt, messages, maxTokens, temperature, topK, topP, seed, stop, steering, steeringMode,
                logprobs, presencePenalty, frequencyPenalty, repetitionPenalty, minP, logitBias, promptTokens,
                jsonSchema, tools, toolChoice);
    }

    /** steering_mode: a new circuit version applies from the next token; an unknown circuit runs unsteered until it exists. */
    public static final String LIVE = "live";
    /** steering_mode: the versions in the registry at the start are kept to the end; every circuit must exist. */
    public static final String PINNED = "pinned";

    /**
     * One chat turn.
     *
     * @param role       {@code system}, {@code user}, {@code assistant} or {@code tool} (a tool's result)
     * @param content    the turn's text; may be null on an assistant turn with tool calls
     * @param toolCalls  the calls an assistant turn made, or null
     * @param toolCallId on a tool turn: the call it answers, or null
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Message(String role, String content, @JsonProperty("tool_calls") List<ToolCall> toolCalls,
                          @JsonProperty("tool_call_id") String toolCallId) {
        public Message(String role, String content) {
            this(role, content, null, null);
        }
    }

    /**
     * A function call an assistant turn made (OpenAI's shape).
     *
     * @param id       the call's id, which a tool turn's tool_call_id names
     * @param type     {@code function}
     * @param function the function and its arguments
     */
    public record ToolCall(String id, String type, FunctionCall function) {}

    /** @param arguments the arguments as a JSON object's text */
    public record FunctionCall(String name, String arguments) {}

    /**
     * A circuit and the factor for its neurons; both are required (a missing multiplier must not mean 0).
     *
     * @param circuit    the circuit name
     * @param multiplier 0 ablates, 1 leaves as is, > 1 amplifies; |m| <= 100
     */
    public record Steering(String circuit, Double multiplier) {}
}
