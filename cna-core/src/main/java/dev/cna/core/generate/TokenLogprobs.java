package dev.cna.core.generate;

import java.util.List;

/**
 * A generated (or scored) token's log-probability and the most likely tokens at its position, under the model's
 * distribution before temperature, top-k, top-p, penalties and biases (what OpenAI and vLLM report by default).
 *
 * @param token   the token id
 * @param logprob natural log of its probability
 * @param top     the most likely tokens at that position, most likely first (ties by lower id)
 */
public record TokenLogprobs(int token, float logprob, List<Alternative> top) {
    public TokenLogprobs {
        top = List.copyOf(top);
    }

    /** One candidate at a position: its id and natural-log probability. */
    public record Alternative(int token, float logprob) {}
}
