package dev.cna.core.generate;

import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.MlpHook;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Teacher-forced log-probabilities of given texts: for every token after the first, the log-probability the model
 * (steered by the hook) gave it after the tokens before it, and the most likely tokens there. What OpenAI's legacy
 * completions answer with {@code echo} and {@code logprobs}, and what lm-evaluation-harness sums into a
 * log-likelihood. Several prompts run as one left-padded batch ({@link Backend#logitsAtEveryPosition(List, MlpHook,
 * Backend.PositionLogits)}).
 */
public final class Scorer {
    private Scorer() {}

    /**
     * @param prompts token ids, each at least one
     * @param hook    steering for every row and position, or null
     * @param top     alternatives per position, 0 to {@link SamplingControls#MAX_LOGPROBS}
     * @return per prompt, per position: null at position 0 (no model prediction for the first token), then the
     *         token's {@link TokenLogprobs}
     */
    public static List<List<TokenLogprobs>> score(Backend model, List<int[]> prompts, MlpHook hook, int top) {
        if (top < 0 || top > SamplingControls.MAX_LOGPROBS) {
            throw new IllegalArgumentException("top must be 0 to " + SamplingControls.MAX_LOGPROBS + ", got " + top);
        }
        List<TokenLogprobs[]> out = new ArrayList<>(prompts.size());
        prompts.forEach(p -> out.add(new TokenLogprobs[p.length]));
        model.logitsAtEveryPosition(prompts, hook, (row, position, logits) -> {
            int[] prompt = prompts.get(row);
            if (position + 1 < prompt.length) { // the logits after `position` predict the token at position + 1
                out.get(row)[position + 1] = Logprobs.of(logits, prompt[position + 1], top);
            }
        });
        return out.stream().map(Arrays::asList).toList();
    }
}
