package dev.cna.core.generate;

import dev.cna.core.runtime.KvCache;
import dev.cna.core.runtime.MlpHook;
import dev.cna.core.runtime.Backend;
import dev.cna.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/** Generates replies for a batch of prompts, streaming each row's text as it is produced. */
public final class Generator {
    private final Backend model;
    private final Tokenizer tokenizer;

    public Generator(Backend model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /**
     * Generates one reply per prompt in one batch.
     *
     * @param hook     MLP hook for every forward pass of the batch (steering), or null
     * @param listener receives tokens as they come, or null
     */
    public List<Generation> generate(List<int[]> prompts, List<SamplingParams> params, MlpHook hook, TokenListener listener) {
        if (prompts.size() != params.size() || prompts.isEmpty()) {
            throw new IllegalArgumentException("one SamplingParams per prompt, at least one prompt");
        }
        int batch = prompts.size();
        int context = model.config().contextLength();
        Reply[] rows = new Reply[batch];
        for (int b = 0; b < batch; b++) {
            if (prompts.get(b).length >= context) {
                throw new IllegalArgumentException("prompt " + b + " has " + prompts.get(b).length
                        + " tokens; the model's context is " + context);
            }
            rows[b] = new Reply(tokenizer, prompts.get(b), params.get(b));
        }
        int[] stopIds = tokenizer.stopIds();
        try (KvCache cache = model.newCache(batch)) {
            long start = System.nanoTime();
            float[][] logits = model.prefill(cache, prompts, hook);
            long prefillNanos = System.nanoTime() - start;
            cache.reserve(Math.min(context, cache.columns() + params.stream().mapToInt(SamplingParams::maxTokens).max().getAsInt()));
            long decodeStart = System.nanoTime();
            int[] next = new int[batch];
            int active = batch;
            while (active > 0) {
                for (int b = 0; b < batch; b++) {
                    Reply row = rows[b];
                    if (row.finished()) {
                        next[b] = stopIds[0]; // finished rows ride along until the batch is done
                        continue;
                    }
                    int r = b;
                    next[b] = row.next(logits[b], cache.length(b) + 1 >= context,
                            (token, text, logprobs) -> listener == null || listener.onToken(r, token, text));
                    if (row.finished()) {
                        row.markDecodeEnd(System.nanoTime() - decodeStart);
                        active--;
                    }
                }
                if (active > 0) {
                    logits = model.decode(cache, next, hook);
                }
            }
            List<Generation> out = new ArrayList<>(batch);
            for (Reply row : rows) {
                out.add(row.generation(prefillNanos));
            }
            return out;
        }
    }
}
