package dev.cna.core.generate;

import java.util.ArrayList;
import java.util.List;

/** Log-probabilities from logits: a log-softmax over the vocabulary, in double precision for the normalizer. */
public final class Logprobs {
    private Logprobs() {}

    /**
     * The chosen token's log-probability and the top alternatives.
     *
     * @param logits [vocab] raw next-token logits (steering applied, nothing else)
     * @param token  the chosen id
     * @param top    how many alternatives, 0 to {@link SamplingControls#MAX_LOGPROBS}
     */
    public static TokenLogprobs of(float[] logits, int token, int top) {
        double logZ = logSumExp(logits);
        List<TokenLogprobs.Alternative> alternatives = new ArrayList<>(top);
        for (int id : topIds(logits, top)) {
            alternatives.add(new TokenLogprobs.Alternative(id, (float) (logits[id] - logZ)));
        }
        return new TokenLogprobs(token, (float) (logits[token] - logZ), alternatives);
    }

    /** log(sum(exp(logits))), shifted by the maximum so nothing overflows. */
    public static double logSumExp(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        return max + Math.log(sum);
    }

    /** The k largest logits' ids, largest first, the lower id first on a tie (k is small: one pass per slot). */
    static int[] topIds(float[] logits, int k) {
        int[] ids = new int[Math.min(k, logits.length)];
        if (ids.length == 0) {
            return ids;
        }
        float[] values = new float[ids.length];
        int filled = 0;
        for (int i = 0; i < logits.length; i++) {
            float v = logits[i];
            if (filled == ids.length && !(v > values[filled - 1])) {
                continue;
            }
            int at = filled < ids.length ? filled++ : filled - 1;
            while (at > 0 && v > values[at - 1]) {
                values[at] = values[at - 1];
                ids[at] = ids[at - 1];
                at--;
            }
            values[at] = v;
            ids[at] = i;
        }
        return ids;
    }
}
