package dev.cna.core.generate;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Applies a row's {@link SamplingControls} to its logits before the sampler picks: logit bias, then the repetition
 * penalty over the prompt and the reply (vLLM's order), then OpenAI's presence and frequency penalties over the reply.
 * One instance per row; it remembers what the row generated.
 */
final class LogitControls {
    private final SamplingControls controls;
    private final Set<Integer> seen = new HashSet<>();          // prompt and reply ids, for the repetition penalty
    private final Map<Integer, Integer> generated = new HashMap<>(); // reply id -> count

    LogitControls(SamplingControls controls, int[] prompt) {
        this.controls = controls;
        if (controls.repetitionPenalty() != 1) {
            for (int id : prompt) {
                seen.add(id);
            }
        }
    }

    /** Records a token taken into the reply. */
    void accept(int token) {
        generated.merge(token, 1, Integer::sum);
        if (controls.repetitionPenalty() != 1) {
            seen.add(token);
        }
    }

    /** The logits the sampler sees: the input itself when nothing changes them, else a changed copy. */
    float[] apply(float[] logits) {
        if (!controls.changesLogits()) {
            return logits;
        }
        float[] out = logits.clone();
        controls.logitBias().forEach((id, bias) -> {
            if (id >= 0 && id < out.length) {
                out[id] += bias;
            }
        });
        float r = controls.repetitionPenalty();
        if (r != 1) {
            for (int id : seen) {
                if (id < out.length) {
                    out[id] = out[id] > 0 ? out[id] / r : out[id] * r;
                }
            }
        }
        if (controls.presencePenalty() != 0 || controls.frequencyPenalty() != 0) {
            generated.forEach((id, count) -> {
                if (id < out.length) {
                    out[id] -= controls.frequencyPenalty() * count + controls.presencePenalty();
                }
            });
        }
        return out;
    }
}
