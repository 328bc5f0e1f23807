package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.GenerateRequest;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads an OpenAI legacy completions body: {@code prompt} as a string, a list of strings, a token-id list or a list
 * of token-id lists; {@code echo}; {@code logprobs} 0 to 5; {@code max_tokens} (default 16; 0 = score only, with
 * echo); the sampling fields and the steering extension as in chat. {@code suffix}, {@code best_of} other than 1 and
 * {@code n} other than 1 are refused with 400; other fields OpenAI clients send ({@code model}, {@code user}) are
 * ignored.
 */
@ApplicationScoped
public class TextCompletionParser {
    /** OpenAI's bound on the legacy {@code logprobs}. */
    static final int MAX_LOGPROBS = 5;
    /** OpenAI's default max_tokens of a legacy completion. */
    static final int DEFAULT_MAX_TOKENS = 16;

    private final GatewayConfig config;
    private final ObjectMapper json;

    TextCompletionParser(GatewayConfig config, ObjectMapper json) {
        this.config = config;
        this.json = json;
    }

    /**
     * @param steeringQuery the {@code steering} query parameter, {@code NAME:MULTIPLIER[,NAME:MULTIPLIER...]}, or null:
     *                      for clients that cannot add body fields (lm-evaluation-harness posts to its base_url as is);
     *                      a body that also has {@code steering} is refused
     */
    public TextCompletionRequest parse(String text, String steeringQuery) throws JsonProcessingException {
        JsonNode body = json.readTree(text);
        if (body == null || !body.isObject()) {
            throw ProblemException.invalid("the body must be a JSON object");
        }
        if (body.hasNonNull("suffix")) {
            throw ProblemException.invalid("suffix is not supported: the served model has no fill-in-the-middle mode");
        }
        for (String one : List.of("n", "best_of")) {
            if (body.hasNonNull(one) && !(body.get(one).isIntegralNumber() && body.get(one).asLong() == 1)) {
                throw ProblemException.invalid(one + " must be 1: one choice per prompt");
            }
        }
        ChatRequestParser.optional(body, "model", JsonNode::isTextual, "a string");
        boolean echo = ChatRequestParser.bool(body, "echo", "echo");
        Integer logprobs = SamplingFields.integer(body, "logprobs", 0, MAX_LOGPROBS);
        Integer maxTokens = SamplingFields.integer(body, "max_tokens", 0, Integer.MAX_VALUE);
        int max = maxTokens == null ? DEFAULT_MAX_TOKENS : maxTokens;
        if (max == 0 && !echo) {
            throw ProblemException.invalid("max_tokens must be at least 1 without echo: true (0 = scoring only)");
        }
        JsonNode options = ChatRequestParser.optional(body, "stream_options", JsonNode::isObject, "an object");
        boolean includeUsage = options != null && ChatRequestParser.bool(options, "include_usage", "stream_options.include_usage");
        GenerateRequest generate = SamplingFields.with(new GenerateRequest(null, null, max == 0 ? null : max,
                ChatRequestParser.number(body, "temperature"), null, ChatRequestParser.number(body, "top_p"),
                ChatRequestParser.seed(body), ChatRequestParser.stop(body.get("stop")),
                steering(body, steeringQuery),
                ChatRequestParser.text(ChatRequestParser.optional(body, "steering_mode", JsonNode::isTextual, "\"live\" or \"pinned\""))),
                body, logprobs);
        return new TextCompletionRequest(prompts(body.get("prompt")), generate, echo, logprobs,
                ChatRequestParser.bool(body, "stream", "stream"), includeUsage);
    }

    private static List<GenerateRequest.Steering> steering(JsonNode body, String query) {
        if (query == null) {
            return ChatRequestParser.steering(body.get("steering"));
        }
        if (body.hasNonNull("steering")) {
            throw ProblemException.invalid("steering is given twice: in the query and in the body");
        }
        List<GenerateRequest.Steering> out = new ArrayList<>();
        for (String entry : query.split(",")) {
            int colon = entry.lastIndexOf(':');
            try {
                out.add(new GenerateRequest.Steering(entry.substring(0, colon), Double.parseDouble(entry.substring(colon + 1))));
            } catch (RuntimeException e) {
                throw ProblemException.invalid("the steering query parameter must be NAME:MULTIPLIER[,NAME:MULTIPLIER...], got " + query);
            }
        }
        return out;
    }

    private List<TextCompletionRequest.Prompt> prompts(JsonNode prompt) {
        String shape = "prompt must be a string, a list of strings, a list of token ids or a list of token-id lists";
        if (prompt == null || prompt.isNull()) {
            throw ProblemException.invalid("prompt is required: " + shape.substring("prompt must be ".length()));
        }
        List<TextCompletionRequest.Prompt> out = new ArrayList<>();
        if (prompt.isTextual()) {
            out.add(text(prompt, 0));
        } else if (prompt.isArray() && !prompt.isEmpty() && prompt.get(0).isIntegralNumber()) {
            out.add(ids(prompt, 0, shape));
        } else if (prompt.isArray() && !prompt.isEmpty()) {
            for (int i = 0; i < prompt.size(); i++) {
                JsonNode p = prompt.get(i);
                if (p.isTextual()) {
                    out.add(text(p, i));
                } else if (p.isArray()) {
                    out.add(ids(p, i, shape));
                } else {
                    throw ProblemException.invalid(shape);
                }
            }
        } else {
            throw ProblemException.invalid(shape);
        }
        if (out.stream().map(p -> p.text() != null).distinct().count() > 1) {
            throw ProblemException.invalid("prompt must be all strings or all token-id lists, not both");
        }
        if (out.size() > config.maxCompletionPrompts()) {
            throw ProblemException.invalid("prompt has " + out.size() + " prompts; at most " + config.maxCompletionPrompts()
                    + " (cna.gateway.max-completion-prompts)");
        }
        return out;
    }

    private TextCompletionRequest.Prompt text(JsonNode p, int i) {
        String text = p.textValue();
        if (text.isEmpty()) {
            throw ProblemException.invalid("prompt " + i + " is empty");
        }
        if (text.length() > config.maxPromptChars()) {
            throw ProblemException.invalid("prompt " + i + " has " + text.length() + " characters; at most "
                    + config.maxPromptChars() + " (cna.gateway.max-prompt-chars)");
        }
        return new TextCompletionRequest.Prompt(text, null);
    }

    private TextCompletionRequest.Prompt ids(JsonNode p, int i, String shape) {
        if (p.isEmpty() || p.size() > config.maxPromptChars()) {
            throw ProblemException.invalid("prompt " + i + " must have 1 to " + config.maxPromptChars() + " token ids");
        }
        List<Integer> ids = new ArrayList<>(p.size());
        for (JsonNode id : p) {
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
                throw ProblemException.invalid(shape);
            }
            ids.add(id.intValue());
        }
        return new TextCompletionRequest.Prompt(null, ids);
    }
}
