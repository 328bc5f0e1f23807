package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.GenerateRequest;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Reads an OpenAI chat completion body onto steering-service's POST /generate. The gateway checks the shape of
 * every field it maps (types, n, message roles, text-only content, prompt size); ranges that depend on the
 * served model (max_tokens, the context length, circuit names and multipliers) are steering-service's to check,
 * and its 400 comes back with its detail. Fields the gateway does not use are ignored, as OpenAI clients send
 * many.
 */
@ApplicationScoped
public class ChatRequestParser {
    private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

    private final GatewayConfig config;
    private final ObjectMapper json;

    ChatRequestParser(GatewayConfig config, ObjectMapper json) {
        this.config = config;
        this.json = json;
    }

    /** The request; a body that is not JSON throws what {@link JsonExceptionMapper} answers. */
    public ChatRequest parse(String text) throws JsonProcessingException {
        JsonNode body = json.readTree(text);
        if (body == null || !body.isObject()) {
            throw ProblemException.invalid("the body must be a JSON object");
        }
        optional(body, "model", JsonNode::isTextual, "a string");
        Integer n = SamplingFields.integer(body, "n", 1, config.maxChoices());
        JsonNode options = optional(body, "stream_options", JsonNode::isObject, "an object");
        boolean includeUsage = options != null && bool(options, "include_usage", "stream_options.include_usage");
        // max_completion_tokens is OpenAI's newer name; it wins when both come
        String maxTokensField = body.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        JsonNode maxTokens = optional(body, maxTokensField, v -> v.isIntegralNumber() && v.canConvertToInt(), "an integer");
        GenerateRequest generate = SamplingFields.with(new GenerateRequest(
                null, // prompt: a chat is always messages
                messages(body.get("messages")),
                maxTokens == null ? null : maxTokens.intValue(),
                number(body, "temperature"),
                null, // top_k: OpenAI has none, steering-service's default applies
                number(body, "top_p"),
                seed(body),
                stop(body.get("stop")),
                steering(body.get("steering")),
                text(optional(body, "steering_mode", JsonNode::isTextual, "\"live\" or \"pinned\""))), body, logprobs(body));
        generate = StructuredFields.read(body, generate, json);
        return new ChatRequest(generate, bool(body, "stream", "stream"), includeUsage, n == null ? 1 : n);
    }

    /** OpenAI's chat pair: logprobs (true/false) and top_logprobs (0 to 20, only with logprobs true). */
    private static Integer logprobs(JsonNode body) {
        boolean wanted = bool(body, "logprobs", "logprobs");
        Integer top = SamplingFields.integer(body, "top_logprobs", 0, 20);
        if (top != null && !wanted) {
            throw ProblemException.invalid("top_logprobs needs logprobs: true");
        }
        return wanted ? (top == null ? 0 : top) : null;
    }

    private List<GenerateRequest.Message> messages(JsonNode list) {
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw ProblemException.invalid("messages must be a non-empty list");
        }
        List<GenerateRequest.Message> out = new ArrayList<>(list.size());
        int chars = 0;
        for (JsonNode m : list) {
            String at = "messages[" + out.size() + "]";
            String role = m.path("role").textValue();
            if ("developer".equals(role)) {
                role = "system"; // what current OpenAI clients send instead of system
            }
            if (role == null || !ROLES.contains(role)) {
                throw ProblemException.invalid(at + ".role must be system, developer, user, assistant or tool");
            }
            // an assistant turn that only called tools has no content
            boolean callsOnly = "assistant".equals(role) && m.hasNonNull("tool_calls") && !m.hasNonNull("content");
            String content = callsOnly ? null : content(m.get("content"), at + ".content");
            chars += content == null ? 0 : content.length();
            out.add(StructuredFields.message(m, role, content, at));
        }
        if (chars > config.maxPromptChars()) {
            throw ProblemException.invalid("the messages have " + chars + " characters; at most " + config.maxPromptChars()
                    + " (cna.gateway.max-prompt-chars)");
        }
        return out;
    }

    /** A string, or a list of {@code {"type": "text", "text": ...}} parts joined in order. */
    private static String content(JsonNode content, String at) {
        if (content != null && content.isTextual()) {
            return content.textValue();
        }
        if (content == null || !content.isArray()) {
            throw ProblemException.invalid(at + " must be a string or a list of text parts");
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < content.size(); i++) {
            JsonNode part = content.get(i);
            if (!"text".equals(part.path("type").textValue()) || !part.path("text").isTextual()) {
                throw ProblemException.invalid(at + "[" + i + "] must be {\"type\": \"text\", \"text\": STRING}; only text is supported");
            }
            text.append(part.get("text").textValue());
        }
        return text.toString();
    }

    static List<String> stop(JsonNode stop) {
        if (stop == null || stop.isNull()) {
            return null;
        }
        if (stop.isTextual()) {
            return List.of(stop.textValue());
        }
        if (!stop.isArray()) {
            throw ProblemException.invalid("stop must be a string or a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : stop) {
            if (!s.isTextual()) {
                throw ProblemException.invalid("stop must be a string or a list of strings");
            }
            out.add(s.textValue());
        }
        return out;
    }

    static List<GenerateRequest.Steering> steering(JsonNode list) {
        if (list == null || list.isNull()) {
            return null;
        }
        if (!list.isArray()) {
            throw ProblemException.invalid("steering must be a list of {\"circuit\": NAME, \"multiplier\": NUMBER}");
        }
        List<GenerateRequest.Steering> out = new ArrayList<>(list.size());
        for (JsonNode s : list) {
            String at = "steering[" + out.size() + "]";
            if (!s.path("circuit").isTextual()) {
                throw ProblemException.invalid(at + ".circuit must be a circuit name");
            }
            if (!s.path("multiplier").isNumber()) {
                throw ProblemException.invalid(at + ".multiplier must be a number");
            }
            out.add(new GenerateRequest.Steering(s.get("circuit").textValue(), s.get("multiplier").doubleValue()));
        }
        return out;
    }

    static Long seed(JsonNode body) {
        JsonNode seed = optional(body, "seed", v -> v.isIntegralNumber() && v.canConvertToLong(), "an integer");
        return seed == null ? null : seed.longValue();
    }

    static Double number(JsonNode body, String field) {
        JsonNode value = optional(body, field, JsonNode::isNumber, "a number");
        return value == null ? null : value.doubleValue();
    }

    static boolean bool(JsonNode body, String field, String name) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return false;
        }
        if (!value.isBoolean()) {
            throw ProblemException.invalid(name + " must be true or false");
        }
        return value.booleanValue();
    }

    static String text(JsonNode node) {
        return node == null ? null : node.textValue();
    }

    /** The field, null when absent or null; a present value must pass the check. */
    static JsonNode optional(JsonNode body, String field, Predicate<JsonNode> check, String what) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!check.test(value)) {
            throw ProblemException.invalid(field + " must be " + what);
        }
        return value;
    }
}
