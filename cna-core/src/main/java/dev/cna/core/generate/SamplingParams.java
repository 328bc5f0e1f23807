package dev.cna.core.generate;

import dev.cna.core.generate.constraint.TokenConstraint;

import java.util.List;

/**
 * How to pick each next token and when to stop.
 *
 * @param temperature 0 means greedy
 * @param topK        keep the k most likely tokens (0 = all)
 * @param topP        keep the smallest set whose probability reaches p (1 = all)
 * @param seed        seed of this request's random stream; equal seeds give equal replies
 * @param maxTokens   most tokens to generate
 * @param stop        strings that end the reply; they are not part of the returned text
 * @param controls    penalties, min-p, logit bias and log-probabilities ({@link SamplingControls#NONE}: none)
 * @param constraint  what the reply must be (JSON of a schema), enforced token by token; null = free text
 */
public record SamplingParams(float temperature, int topK, float topP, long seed, int maxTokens, List<String> stop,
                             SamplingControls controls, TokenConstraint constraint) {

    /** OpenAI's upper bound: above it sampling is close to uniform over the top-k/top-p set. */
    public static final float MAX_TEMPERATURE = 2f;

    public SamplingParams {
        if (!(temperature >= 0 && temperature <= MAX_TEMPERATURE)) {
            throw new IllegalArgumentException("temperature must be 0 to " + (int) MAX_TEMPERATURE + ", got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
        }
        stop = List.copyOf(stop);
        controls = controls == null ? SamplingControls.NONE : controls;
    }

    /** Free text, with penalties, bias, min-p or log-probabilities. */
    public SamplingParams(float temperature, int topK, float topP, long seed, int maxTokens, List<String> stop,
                          SamplingControls controls) {
        this(temperature, topK, topP, seed, maxTokens, stop, controls, null);
    }

    /** Free text without penalties, bias, min-p or log-probabilities. */
    public SamplingParams(float temperature, int topK, float topP, long seed, int maxTokens, List<String> stop) {
        this(temperature, topK, topP, seed, maxTokens, stop, SamplingControls.NONE, null);
    }

    /** These settings with the reply constrained (null = free text). */
    public SamplingParams withConstraint(TokenConstraint constraint) {
        return new SamplingParams(temperature, topK, topP, seed, maxTokens, stop, controls, constraint);
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0, 0, 1, 0, maxTokens, List.of());
    }
}
