package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cna.api.GenerateRequest;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sampling controls OpenAI's and vLLM's bodies share, beside temperature, top_p, seed and stop: presence_penalty,
 * frequency_penalty, repetition_penalty (vLLM's), min_p (vLLM's), logit_bias, and the log-probability count. The
 * gateway checks their types and the ranges it can check without the model (log-probability counts, the bias table's
 * size); steering-service checks the rest (penalty ranges, token ids against the vocabulary) and its 400 comes back.
 */
final class SamplingFields {
    /** OpenAI's limit on logit_bias entries. */
    static final int MAX_LOGIT_BIAS = 300;

    private SamplingFields() {}

    /**
     * The request with the body's controls added.
     *
     * @param logprobs the log-probability count the body asked for (chat: top_logprobs when logprobs is true;
     *                 completions: logprobs), or null for none
     */
    static GenerateRequest with(GenerateRequest base, JsonNode body, Integer logprobs) {
        return new GenerateRequest(base.prompt(), base.messages(), base.maxTokens(), base.temperature(), base.topK(),
                base.topP(), base.seed(), base.stop(), base.steering(), base.steeringMode(), logprobs,
                ChatRequestParser.number(body, "presence_penalty"), ChatRequestParser.number(body, "frequency_penalty"),
                ChatRequestParser.number(body, "repetition_penalty"), ChatRequestParser.number(body, "min_p"), logitBias(body.get("logit_bias")), base.promptTokens(),
                base.jsonSchema(), base.tools(), base.toolChoice());
    }

    /** An integer field within [min, max], or null when absent. */
    static Integer integer(JsonNode body, String field, int min, int max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < min || v.intValue() > max) {
            throw ProblemException.invalid(field + " must be an integer from " + min + " to " + max + ", got " + v);
        }
        return v.intValue();
    }

    private static Map<String, Double> logitBias(JsonNode bias) {
        if (bias == null || bias.isNull()) {
            return null;
        }
        if (!bias.isObject()) {
            throw ProblemException.invalid("logit_bias must be an object of token id to a number from -100 to 100");
        }
        if (bias.size() > MAX_LOGIT_BIAS) {
            throw ProblemException.invalid("logit_bias takes at most " + MAX_LOGIT_BIAS + " tokens, got " + bias.size());
        }
        Map<String, Double> out = new LinkedHashMap<>();
        bias.fields().forEachRemaining(e -> {
            if (!e.getValue().isNumber()) {
                throw ProblemException.invalid("logit_bias must be an object of token id to a number from -100 to 100");
            }
            out.put(e.getKey(), e.getValue().doubleValue());
        });
        return out;
    }
}
