package dev.cna.core.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: greedy, or temperature with top-k, top-p and min-p, from a seeded stream. Each row
 * has its own stream, so a seeded request gets the same tokens whatever else is batched with it.
 */
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
        float minP = params.controls().minP();
        if (minP > 0) { // weights are exp((l - max) / T): the most likely token's is 1
            int kept = 0;
            double keptTotal = 0;
            for (int i = 0; i < candidates.length; i++) {
                if (weights[i] >= minP) {
                    candidates[kept] = candidates[i];
                    weights[kept++] = weights[i];
                    keptTotal += weights[i];
                }
            }
            keep = kept;
            total = keptTotal;
        }
        if (params.topP() < 1) {
            double cumulative = 0;
            for (int i = 0; i < keep; i++) {
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
        // Rank (descending logit, ascending id) as one primitive key, smallest first: order-preserving float bits, then the id.
        int keep = params.topK() > 0 ? Math.min(params.topK(), n) : n;
        long[] keys = keep < n ? smallestKeys(logits, keep) : allKeys(logits);
        Arrays.sort(keys);
        int[] ids = new int[keep];
        for (int i = 0; i < keep; i++) {
            ids[i] = (int) keys[i];
        }
        return ids;
    }

    private static long key(float logit, int id) {
        int bits = Float.floatToIntBits(logit);
        int ordered = bits >= 0 ? bits : bits ^ 0x7FFFFFFF;
        return ((long) ~ordered << 32) | id;
    }

    private static long[] allKeys(float[] logits) {
        long[] keys = new long[logits.length];
        for (int i = 0; i < logits.length; i++) {
            keys[i] = key(logits[i], i);
        }
        return keys;
    }

    /** The k smallest keys, unordered: a max-heap of k, so a vocabulary pass costs O(n log k), not a full sort. */
    private static long[] smallestKeys(float[] logits, int k) {
        long[] heap = new long[k];
        for (int i = 0; i < k; i++) {
            heap[i] = key(logits[i], i);
        }
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(heap, i);
        }
        for (int i = k; i < logits.length; i++) {
            long candidate = key(logits[i], i);
            if (candidate < heap[0]) {
                heap[0] = candidate;
                siftDown(heap, 0);
            }
        }
        return heap;
    }

    private static void siftDown(long[] heap, int at) {
        int n = heap.length;
        while (true) {
            int largest = at;
            int left = 2 * at + 1;
            int right = left + 1;
            if (left < n && heap[left] > heap[largest]) {
                largest = left;
            }
            if (right < n && heap[right] > heap[largest]) {
                largest = right;
            }
            if (largest == at) {
                return;
            }
            long t = heap[at];
            heap[at] = heap[largest];
            heap[largest] = t;
            at = largest;
        }
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
