package dev.cna.core.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Picks the next token from logits: greedy, or temperature with top-k and top-p, from a seeded stream. */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    public int next(float[] logits) {
        if (params.temperature() == 0) {
            return argMax(logits);
        }
        int[] candidates = candidates(logits);
        float max = logits[argMax(logits)];
        double[] weights = new double[candidates.length];
        double total = 0;
        for (int i = 0; i < candidates.length; i++) {
            weights[i] = Math.exp((logits[candidates[i]] - max) / params.temperature());
            total += weights[i];
        }
        int keep = candidates.length;
        if (params.topP() < 1) {
            double cumulative = 0;
            for (int i = 0; i < candidates.length; i++) {
                cumulative += weights[i];
                if (cumulative >= params.topP() * total) {
                    keep = i + 1;
                    break;
                }
            }
            total = 0;
            for (int i = 0; i < keep; i++) {
                total += weights[i];
            }
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            r -= weights[i];
            if (r < 0) {
                return candidates[i];
            }
        }
        return candidates[keep - 1];
    }

    /**
     * Token ids to sample from: all of them in id order when neither top-k nor top-p applies, else sorted by
     * logit, largest first, ties by id (so equal seeds give equal replies), cut to k.
     */
    private int[] candidates(float[] logits) {
        int n = logits.length;
        if (params.topK() == 0 && params.topP() >= 1) {
            int[] all = new int[n];
            Arrays.setAll(all, i -> i);
            return all;
        }
        // Sort (descending logit, ascending id) as one primitive key: order-preserving float bits, then the id.
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            int bits = Float.floatToIntBits(logits[i]);
            int ordered = bits >= 0 ? bits : bits ^ 0x7FFFFFFF;
            keys[i] = ((long) ~ordered << 32) | i;
        }
        Arrays.sort(keys);
        int keep = params.topK() > 0 ? Math.min(params.topK(), n) : n;
        int[] ids = new int[keep];
        for (int i = 0; i < keep; i++) {
            ids[i] = (int) keys[i];
        }
        return ids;
    }

    /** Index of the largest value; the lowest index wins a tie, as in llama.cpp's greedy sampler. */
    public static int argMax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
