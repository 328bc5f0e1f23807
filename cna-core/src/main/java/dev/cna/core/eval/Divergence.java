package dev.cna.core.eval;

import java.util.Objects;

/** Divergences between next-token distributions, the cheap capability proxy of docs/method.md section 7. */
public final class Divergence {

    private Divergence() {
    }

    /**
     * {@code KL(P || Q)} in nats, where P and Q are the softmaxes of two next-token logit vectors
     * (typically the unsteered and the steered model at the same position). Computed in double with
     * log-sum-exp, so large logits do not overflow. Logits of {@code -Infinity} (masked tokens) are
     * allowed: a token with zero probability under P contributes nothing; a token with positive
     * probability under P and zero under Q makes the result {@code +Infinity}.
     *
     * @throws IllegalArgumentException if the lengths differ, are zero, or a logit is NaN or +Infinity,
     *                                  or a vector is entirely -Infinity
     */
    public static double klNextToken(float[] logitsP, float[] logitsQ) {
        Objects.requireNonNull(logitsP, "logitsP");
        Objects.requireNonNull(logitsQ, "logitsQ");
        if (logitsP.length != logitsQ.length) {
            throw new IllegalArgumentException("logit vectors differ in length: " + logitsP.length
                    + " vs " + logitsQ.length);
        }
        if (logitsP.length == 0) {
            throw new IllegalArgumentException("empty logit vectors");
        }
        double lseP = logSumExp(logitsP, "P");
        double lseQ = logSumExp(logitsQ, "Q");
        double kl = 0;
        for (int i = 0; i < logitsP.length; i++) {
            double lp = logitsP[i] - lseP;
            if (lp == Double.NEGATIVE_INFINITY) {
                continue;
            }
            double lq = logitsQ[i] - lseQ;
            if (lq == Double.NEGATIVE_INFINITY) {
                return Double.POSITIVE_INFINITY;
            }
            kl += Math.exp(lp) * (lp - lq);
        }
        // KL is non-negative; rounding can leave a tiny negative value for near-identical inputs
        return Math.max(0.0, kl);
    }

    /** {@code log(sum(exp(x)))} computed stably in double. */
    static double logSumExp(float[] logits, String which) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("logits " + which + " contain " + v);
            }
            max = Math.max(max, v);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("logits " + which + " are all -Infinity");
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum);
    }
}
