package dev.cna.core.runtime;

import dev.cna.core.model.ModelConfig;

import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The decoder of a Llama-family model (llama, mistral, qwen2) on one compute backend: embeddings, RMSNorm, rotary
 * attention with grouped-query heads and a KV cache, SwiGLU MLP, tied or untied head. Subclasses implement one
 * forward pass ({@link #pass}); this class holds what every backend shares: left padding of prompts of different
 * lengths, chunked prefill, decode, teacher forcing and the attribution pass. The weights are read-only after load,
 * so one instance serves any number of {@link KvCache}s, one forward pass at a time.
 *
 * <p>Two backends exist ({@link BackendKind}): {@code cpu}, which computes on the file's quantized blocks with the
 * Java Vector API, and {@code torch}, DJL's PyTorch engine on f32 weights, the reference, and the one with autograd
 * (RelP, {@link #relevance}).
 */
public abstract class Backend implements AutoCloseable {
    /** Default {@link #prefillChunk()}: 256 positions keep a pass's attention scores at 256 x context per head. */
    public static final int DEFAULT_PREFILL_CHUNK = 256;
    protected final ModelConfig config;
    private volatile int prefillChunk = DEFAULT_PREFILL_CHUNK;

    protected Backend(ModelConfig config) {
        this.config = config;
    }

    public final ModelConfig config() {
        return config;
    }

    /** What runs the model, for stats lines and /status: e.g. "cpu (vector 512-bit, 2 threads)" or "torch (F32)". */
    public abstract String name();

    /** An empty cache for a batch of this many rows. */
    public abstract KvCache newCache(int batchSize);

    /** A {@code preempt} check that never stops a pass. */
    public static final BooleanSupplier NEVER = () -> false;

    /**
     * Thrown out of a forward pass whose {@code preempt} check said true at a layer boundary. Nothing of the pass is
     * kept: the cache's columns did not advance, and the keys and values it wrote past them are overwritten when those
     * positions run again.
     */
    public static final class Preempted extends RuntimeException {
        public Preempted() {
            super("forward pass preempted", null, false, false);
        }
    }

    /** Which positions' logits a forward pass computes. */
    public enum Output { NONE, LAST, EVERY }

    /**
     * One forward pass over [batch, width] new tokens (row-major, left-padded: a row's padding columns hold any
     * token and must not change anything) through the first layersToRun layers, after the cache's
     * {@link KvCache#columns()} columns; it writes the new keys and values into the cache (the caller then advances
     * the columns). Before each layer and before the head it asks {@code preempt}, and stops with {@link Preempted}
     * when that says true.
     *
     * @return logits as output asks: [batch][vocab] at the last column for LAST, [batch * width][vocab] for EVERY,
     *         null for NONE
     */
    protected abstract float[][] pass(KvCache cache, int[] tokens, int width, MlpHook hook, Output output, int layersToRun,
                                      BooleanSupplier preempt);

    final float[][] forward(KvCache cache, int[] tokens, int width, MlpHook hook, Output output, int layersToRun) {
        return forward(cache, tokens, width, hook, output, layersToRun, NEVER);
    }

    final float[][] forward(KvCache cache, int[] tokens, int width, MlpHook hook, Output output, int layersToRun,
                            BooleanSupplier preempt) {
        float[][] logits = pass(cache, tokens, width, hook, output, layersToRun, preempt);
        cache.columns += width;
        return logits;
    }

    /** Prompt positions (summed over a batch's rows) that one prefill forward pass runs at most. */
    public final int prefillChunk() {
        return prefillChunk;
    }

    /**
     * Sets the chunk of {@link #prefill} and {@link #observe}: a pass's scratch memory grows with chunk x context
     * (attention scores) instead of prompt x prompt, at the cost of more, smaller passes.
     */
    public final void setPrefillChunk(int tokens) {
        if (tokens < 1) {
            throw new IllegalArgumentException("prefill chunk must be >= 1 token, got " + tokens);
        }
        this.prefillChunk = tokens;
    }

    /**
     * Starts a chunked prefill of the prompts (one per cache row, any lengths, left-padded together) into an
     * empty cache; {@link Prefill#advance} runs it a chunk at a time, so a caller can interleave other work. The
     * cache makes room for the padded prompts, or for its {@link KvCache#reserve reservation} if larger (prompt plus
     * reply: the rows then never grow).
     */
    public final Prefill startPrefill(KvCache cache, List<int[]> prompts) {
        int[] tokens = leftPad(cache, prompts);
        cache.reserve(Math.max(cache.reserved(), tokens.length / prompts.size()));
        return new Prefill(this, cache, tokens, prompts.size());
    }

    /**
     * Runs the prompts (one per cache row, any lengths, left-padded together) into an empty cache, in chunks
     * of {@link #prefillChunk()} positions.
     *
     * @return next-token logits of each row, [batch][vocab]
     */
    public final float[][] prefill(KvCache cache, List<int[]> prompts, MlpHook hook) {
        Prefill prefill = startPrefill(cache, prompts);
        float[][] logits;
        do {
            logits = prefill.advance(prefillChunk, hook);
        } while (logits == null);
        return logits;
    }

    /** Appends one token per row and returns the next-token logits, [batch][vocab]. */
    public final float[][] decode(KvCache cache, int[] nextTokens, MlpHook hook) {
        return decode(cache, nextTokens, hook, NEVER);
    }

    /**
     * {@link #decode(KvCache, int[], MlpHook)} that a scheduler can stop midway: {@code preempt} is asked before each
     * layer and before the head (a steering plan that changed makes the step start over with it, instead of finishing
     * a token under the old one).
     *
     * @throws Preempted when preempt said true; the cache is as before the call
     */
    public final float[][] decode(KvCache cache, int[] nextTokens, MlpHook hook, BooleanSupplier preempt) {
        if (nextTokens.length != cache.batchSize()) {
            throw new IllegalArgumentException("decode needs one token per cache row");
        }
        return forward(cache, nextTokens, 1, hook, Output.LAST, config.layers(), preempt);
    }

    /**
     * Logits at every position of one sequence, [positions][vocab]: teacher forcing, perplexity, KL. Run in
     * chunks like a prefill; the result itself holds positions x vocab floats.
     */
    public final float[][] logitsAtEveryPosition(int[] tokens, MlpHook hook) {
        float[][] out = new float[tokens.length][];
        try (KvCache cache = newCache(1)) {
            cache.reserve(tokens.length);
            for (int from = 0; from < tokens.length; from += prefillChunk) {
                int[] chunk = Arrays.copyOfRange(tokens, from, Math.min(tokens.length, from + prefillChunk));
                float[][] logits = forward(cache, chunk, chunk.length, hook, Output.EVERY, config.layers());
                System.arraycopy(logits, 0, out, from, logits.length);
            }
        }
        return out;
    }

    /** Receives the logits of one position of one row of a teacher-forced batch. */
    @FunctionalInterface
    public interface PositionLogits {
        /**
         * @param row      the prompt's index in the batch
         * @param position the position in that prompt (0 = its first token)
         * @param logits   [vocab] next-token logits after that position; valid only during the call
         */
        void accept(int row, int position, float[] logits);
    }

    /**
     * Teacher forcing of a batch: the prompts (any lengths, left-padded together) run through the model in chunks of
     * {@link #prefillChunk()} positions, the hook (steering) on every position, and every real (not padding) position's
     * logits go to the consumer, row by row within each chunk. Memory: the KV cache of prompts x longest prompt, and
     * one chunk's logits (chunk x vocab floats) at a time.
     */
    public final void logitsAtEveryPosition(List<int[]> prompts, MlpHook hook, PositionLogits consumer) {
        try (KvCache cache = newCache(prompts.size())) {
            int[] tokens = leftPad(cache, prompts);
            int batch = prompts.size();
            int width = tokens.length / batch;
            cache.reserve(width);
            int columns = Math.max(1, prefillChunk / batch);
            for (int from = 0; from < width; from += columns) {
                int to = Math.min(width, from + columns);
                float[][] logits = forward(cache, columnsOf(tokens, batch, width, from, to), to - from, hook, Output.EVERY,
                        config.layers());
                for (int b = 0; b < batch; b++) {
                    int pad = width - prompts.get(b).length;
                    for (int c = Math.max(from, pad); c < to; c++) {
                        consumer.accept(b, c - pad, logits[b * (to - from) + c - from]);
                    }
                }
            }
        }
    }

    /**
     * Runs a batch of prompts only as far as the hook looks (the last layer it wants) and computes no logits:
     * the attribution hot path, where the hook captures activations. Chunked like {@link #prefill}; the hook
     * sees each chunk, and the last chunk holds every row's last token.
     */
    public final void observe(List<int[]> prompts, MlpHook hook) {
        int lastWanted = 0;
        for (int l = 0; l < config.layers(); l++) {
            if (hook.wants(l) || hook.wantsOutput(l)) {
                lastWanted = l;
            }
        }
        try (KvCache cache = newCache(prompts.size())) {
            int[] tokens = leftPad(cache, prompts);
            int width = tokens.length / prompts.size();
            cache.reserve(width);
            int columns = Math.max(1, prefillChunk / prompts.size());
            for (int from = 0; from < width; from += columns) {
                int to = Math.min(width, from + columns);
                forward(cache, columnsOf(tokens, prompts.size(), width, from, to), to - from, hook, Output.NONE, lastWanted + 1);
            }
        }
    }

    /**
     * RelP (docs/method.md section 5): each neuron's activation times the gradient of the target logit at the last
     * position (minus the counterfactual's, when given), summed over positions.
     *
     * @param counterfactual a token id, or -1 for none
     * @return relevance [layer][neuron]
     * @throws UnsupportedOperationException on a backend without autograd (only torch has it)
     */
    public float[][] relevance(int[] tokens, int target, int counterfactual) {
        throw new UnsupportedOperationException("RelP needs autograd, which the " + name()
                + " backend has not; load the model with --backend torch");
    }

    /** Rows' tokens at columns [from, to) of a left-padded [batch, width] token matrix. */
    static int[] columnsOf(int[] tokens, int batch, int width, int from, int to) {
        int n = to - from;
        int[] out = new int[batch * n];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(tokens, b * width + from, out, b * n, n);
        }
        return out;
    }

    private int[] leftPad(KvCache cache, List<int[]> prompts) {
        if (cache.columns != 0 || prompts.size() != cache.batchSize()) {
            throw new IllegalArgumentException("a prefill needs an empty cache with one row per prompt");
        }
        int width = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
        int[] tokens = new int[prompts.size() * width];
        for (int b = 0; b < prompts.size(); b++) {
            int[] p = prompts.get(b);
            if (p.length == 0) {
                throw new IllegalArgumentException("prompt " + b + " is empty");
            }
            cache.pads[b] = width - p.length;
            System.arraycopy(p, 0, tokens, b * width + cache.pads[b], p.length);
        }
        return tokens;
    }

    @Override
    public abstract void close();
}
