package dev.cna.core.generate;

import java.util.Map;

/**
 * What a request may do to the logits before a token is picked, beside temperature, top-k and top-p, and whether it
 * wants log-probabilities back. The penalties follow the two families users know: OpenAI's additive presence and
 * frequency penalties over the generated tokens (OpenAI API reference, "Parameter details"), and the CTRL-style
 * multiplicative repetition penalty over prompt and generated tokens, as vLLM and llama.cpp apply it (Keskar et al.
 * 2019; vLLM {@code apply_penalties}).
 *
 * @param presencePenalty   subtracted once from the logit of every token already generated, -2 to 2 (0 = off)
 * @param frequencyPenalty  subtracted from a token's logit once per time it was generated, -2 to 2 (0 = off)
 * @param repetitionPenalty > 0; a token seen in the prompt or the reply has its logit divided by it when positive,
 *                          multiplied when negative (1 = off)
 * @param minP              0 to 1: tokens whose probability (after temperature) is below minP times the most likely
 *                          token's are not sampled (0 = off; no effect on greedy picks)
 * @param logitBias         token id to a bias, -100 to 100, added to its logit (-100 bans, 100 all but forces)
 * @param logprobs          -1 for none; else 0 to {@link #MAX_LOGPROBS}: report each generated token's log-probability
 *                          and this many most likely alternatives ({@link TokenLogprobs})
 */
public record SamplingControls(float presencePenalty, float frequencyPenalty, float repetitionPenalty, float minP,
                               Map<Integer, Float> logitBias, int logprobs) {
    /** OpenAI's and vLLM's bound on top log-probabilities per token. */
    public static final int MAX_LOGPROBS = 20;
    /** OpenAI's bound on presence and frequency penalties. */
    public static final float MAX_PENALTY = 2f;
    /** OpenAI's bound on a logit bias. */
    public static final float MAX_BIAS = 100f;
    /** Nothing changed, no log-probabilities. */
    public static final SamplingControls NONE = new SamplingControls(0, 0, 1, 0, Map.of(), -1);

    public SamplingControls {
        if (!(Math.abs(presencePenalty) <= MAX_PENALTY)) {
            throw new IllegalArgumentException("presence_penalty must be -2 to 2, got " + presencePenalty);
        }
        if (!(Math.abs(frequencyPenalty) <= MAX_PENALTY)) {
            throw new IllegalArgumentException("frequency_penalty must be -2 to 2, got " + frequencyPenalty);
        }
        if (!(repetitionPenalty > 0 && Float.isFinite(repetitionPenalty))) {
            throw new IllegalArgumentException("repetition_penalty must be > 0, got " + repetitionPenalty);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("min_p must be 0 to 1, got " + minP);
        }
        for (Map.Entry<Integer, Float> e : logitBias.entrySet()) {
            if (!(Math.abs(e.getValue()) <= MAX_BIAS)) {
                throw new IllegalArgumentException("logit_bias of token " + e.getKey() + " must be -100 to 100, got " + e.getValue());
            }
        }
        if (logprobs < -1 || logprobs > MAX_LOGPROBS) {
            throw new IllegalArgumentException("logprobs must be 0 to " + MAX_LOGPROBS + ", got " + logprobs);
        }
        logitBias = Map.copyOf(logitBias);
    }

    /** Whether the logits are changed before sampling (a penalty or a bias is set). */
    public boolean changesLogits() {
        return presencePenalty != 0 || frequencyPenalty != 0 || repetitionPenalty != 1 || !logitBias.isEmpty();
    }
}
