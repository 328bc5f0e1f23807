package dev.cna.core.generate;

import dev.cna.core.runtime.KvCache;
import dev.cna.core.runtime.NeuronScaling;
import dev.cna.core.runtime.Backend;
import dev.cna.core.steer.SteeringPlan;

import java.util.List;
import java.util.function.IntFunction;

/** Greedy decoding written out on the transformer alone, for checking the batching and swapping code. */
public final class ReferenceDecoding {
    private ReferenceDecoding() {}

    /** The plan of the pass that makes token n (0 = the prefill) is steering(n); no stop tokens. */
    public static int[] greedy(Backend model, int[] prompt, int maxTokens, IntFunction<SteeringPlan> steering) {
        int[] out = new int[maxTokens];
        try (KvCache cache = model.newCache(1)) {
            float[][] logits;
            try (NeuronScaling hook = SteeringPlan.hook(List.of(steering.apply(0)), model.config())) {
                logits = model.prefill(cache, List.of(prompt), hook);
            }
            for (int n = 0; n < maxTokens; n++) {
                out[n] = Sampler.argMax(logits[0]);
                if (n + 1 < maxTokens) {
                    try (NeuronScaling hook = SteeringPlan.hook(List.of(steering.apply(n + 1)), model.config())) {
                        logits = model.decode(cache, new int[] {out[n]}, hook);
                    }
                }
            }
        }
        return out;
    }
}
