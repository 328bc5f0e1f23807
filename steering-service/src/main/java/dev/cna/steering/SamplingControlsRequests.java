package dev.cna.steering;

import dev.cna.api.GenerateRequest;
import dev.cna.core.generate.SamplingControls;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The log-probability, penalty, min-p and logit-bias fields of a {@link GenerateRequest}, checked and mapped onto the
 * engine's {@link SamplingControls}; every refusal is a 400 that names the field and its range.
 */
final class SamplingControlsRequests {
    /** OpenAI's limit on logit_bias entries. */
    static final int MAX_LOGIT_BIAS = 300;

    private SamplingControlsRequests() {}

    /** @param vocab the model's vocabulary size: logit_bias and prompt_tokens ids must be below it */
    static SamplingControls controls(GenerateRequest request, int vocab) {
        Map<Integer, Float> bias = new HashMap<>();
        Map<String, Double> asked = request.logitBias() == null ? Map.of() : request.logitBias();
        if (asked.size() > MAX_LOGIT_BIAS) {
            throw ProblemException.badRequest("logit_bias takes at most " + MAX_LOGIT_BIAS + " tokens, got " + asked.size());
        }
        for (Map.Entry<String, Double> e : asked.entrySet()) {
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException x) {
                throw ProblemException.badRequest("logit_bias keys must be token ids, got \"" + e.getKey() + "\"");
            }
            if (id < 0 || id >= vocab) {
                throw ProblemException.badRequest("logit_bias has token " + id + "; ids are 0 to " + (vocab - 1));
            }
            if (e.getValue() == null) {
                throw ProblemException.badRequest("logit_bias of token " + id + " must be -100 to 100, got null");
            }
            bias.put(id, e.getValue().floatValue());
        }
        try {
            return new SamplingControls(value(request.presencePenalty(), 0), value(request.frequencyPenalty(), 0),
                    value(request.repetitionPenalty(), 1), value(request.minP(), 0), bias,
                    request.logprobs() == null ? -1 : request.logprobs());
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest(e.getMessage());
        }
    }

    /** The prompt of a request that gives token ids, checked against the vocabulary; null when it gives text. */
    static int[] promptTokens(List<Integer> ids, int vocab, String field) {
        if (ids == null) {
            return null;
        }
        if (ids.isEmpty()) {
            throw ProblemException.badRequest(field + " must not be empty");
        }
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            Integer id = ids.get(i);
            if (id == null || id < 0 || id >= vocab) {
                throw ProblemException.badRequest(field + "[" + i + "] must be a token id 0 to " + (vocab - 1) + ", got " + id);
            }
            out[i] = id;
        }
        return out;
    }

    private static float value(Double v, float absent) {
        if (v != null && !Double.isFinite(v)) {
            throw ProblemException.badRequest("penalties and min_p must be finite numbers");
        }
        return v == null ? absent : v.floatValue();
    }
}
