package dev.cna.core.runtime;

import java.util.function.BooleanSupplier;

/**
 * A batch of prompts being prefilled a chunk at a time (chunked prefill, as in vLLM and Sarathi-Serve): each
 * {@link #advance} runs the next columns of the left-padded prompts against the KV cache filled so far, so a
 * scheduler can run decode steps of other sequences between chunks, and can stop a prefill nobody waits for.
 * Made by {@link Backend#startPrefill}; one thread drives it.
 */
public final class Prefill {
    private final Backend model;
    private final KvCache cache;
    private final int[] tokens; // [batch * width], left-padded
    private final int batch;
    private final int width;
    private int done;           // columns already in the cache

    Prefill(Backend model, KvCache cache, int[] tokens, int batch) {
        this.model = model;
        this.cache = cache;
        this.tokens = tokens;
        this.batch = batch;
        this.width = tokens.length / batch;
    }

    /** The cache being filled; it holds every prompt once the prefill has finished. */
    public KvCache cache() {
        return cache;
    }

    /** Columns of the padded prompts: the longest prompt's tokens. */
    public int width() {
        return width;
    }

    /** Columns (positions of the padded prompts) not yet run. */
    public int remaining() {
        return width - done;
    }

    /**
     * Runs the next max(1, tokens / batch) columns of every row.
     *
     * @param tokens prompt positions, summed over the rows, that this pass may run
     * @return the next-token logits of each row, [batch][vocab], when this chunk finished the prompts; else null
     * @throws IllegalStateException when the prefill has already finished
     */
    public float[][] advance(int tokens, MlpHook hook) {
        return advance(tokens, hook, Backend.NEVER);
    }

    /**
     * {@link #advance(int, MlpHook)} that stops when {@code preempt} says true before a layer or the head
     * ({@link Backend#decode(KvCache, int[], MlpHook, BooleanSupplier)}); a preempted chunk runs
     * again at the next call.
     *
     * @throws Backend.Preempted when preempt said true; nothing advanced
     */
    public float[][] advance(int tokens, MlpHook hook, BooleanSupplier preempt) {
        if (done == width) {
            throw new IllegalStateException("the prefill has finished");
        }
        int to = Math.min(width, done + Math.max(1, tokens / batch));
        int[] chunk = Backend.columnsOf(this.tokens, batch, width, done, to);
        boolean last = to == width;
        float[][] logits = model.forward(cache, chunk, to - done, hook,
                last ? Backend.Output.LAST : Backend.Output.NONE, model.config().layers(), preempt);
        done = to;
        return logits;
    }
}
