package dev.cna.core.generate;

/**
 * One finished reply.
 *
 * @param text          the reply without stop token or stop string
 * @param tokens        generated token ids (the stop token excluded)
 * @param promptTokens  tokens in the prompt
 * @param prefillNanos  time of the batch's prefill
 * @param decodeNanos   time from the end of prefill to this reply's last token
 */
public record Generation(String text, int[] tokens, FinishReason finishReason, int promptTokens,
                         long prefillNanos, long decodeNanos) {

    public double decodeTokensPerSecond() {
        return decodeNanos == 0 ? 0 : tokens.length * 1e9 / decodeNanos;
    }
}
