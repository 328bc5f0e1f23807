package dev.cna.core.eval;

import java.util.Objects;

/**
 * One point of a steering sweep, measured on held-out prompts.
 *
 * @param method       "cna" (neuron scaling, strength = multiplier m, 1 = unsteered) or "caa"
 *                     (residual addition, strength = alpha, 0 = unsteered); other names are allowed
 * @param strength     the multiplier or alpha
 * @param positiveRate behavior rate on the positive (behavior-present) prompts, in [0, 1]
 * @param negativeRate behavior rate on the negative (behavior-absent) prompts, in [0, 1]
 * @param meanQuality  mean {@link Quality} of the generations, in [0, 1]
 * @param meanKl       mean next-token KL(unsteered || steered) on neutral text, nats; NaN if not measured
 * @param capability   multiple-choice accuracy ({@link CapabilityScorer}), in [0, 1]; NaN if not measured
 */
public record EvalRow(String method, double strength, double positiveRate, double negativeRate,
                      double meanQuality, double meanKl, double capability) {

    public static final String CNA = "cna";
    public static final String CAA = "caa";

    public EvalRow {
        Objects.requireNonNull(method, "method");
        if (method.isBlank()) {
            throw new IllegalArgumentException("method is blank");
        }
        if (!Double.isFinite(strength)) {
            throw new IllegalArgumentException("strength must be finite: " + strength);
        }
        checkUnit("positiveRate", positiveRate);
        checkUnit("negativeRate", negativeRate);
        checkUnit("meanQuality", meanQuality);
        checkUnit("capability", capability);
        if (meanKl < 0) {
            throw new IllegalArgumentException("meanKl must be >= 0 or NaN: " + meanKl);
        }
    }

    /** True when this row is the unsteered model: cna with m = 1 or caa with alpha = 0. */
    public boolean isIdentity() {
        return (CNA.equalsIgnoreCase(method) && strength == 1.0)
                || (CAA.equalsIgnoreCase(method) && strength == 0.0);
    }

    private static void checkUnit(String name, double v) {
        if (!Double.isNaN(v) && (v < 0 || v > 1)) {
            throw new IllegalArgumentException(name + " must be in [0, 1] or NaN: " + v);
        }
    }
}
