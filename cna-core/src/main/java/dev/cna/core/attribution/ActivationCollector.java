package dev.cna.core.attribution;

import dev.cna.core.runtime.ActivationCapture;
import dev.cna.core.runtime.Backend;
import dev.cna.core.tokenizer.ChatMessage;
import dev.cna.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Last-token activations of many prompts: the attribution hot path. Prompts are sorted by length and run in
 * batches (one left-padded forward pass each, stopping after the last recorded layer, no logits), so
 * padding stays small and the model's matrices are read once per batch rather than once per prompt.
 *
 * <p>A batch holds at most {@code batchSize} prompts and at most {@code batchTokens} padded tokens (rows x its
 * longest prompt), which bounds its KV cache; a prompt longer than {@code batchTokens} runs alone.
 */
public final class ActivationCollector {
    /** Default {@link #batchTokens()}: 16 prompts of 256 tokens, or fewer longer ones. */
    public static final int DEFAULT_BATCH_TOKENS = 4096;

    private final Backend model;
    private final Tokenizer tokenizer;
    private final int batchSize;
    private final int batchTokens;

    /** Batches of at most {@code batchSize} prompts and {@link #DEFAULT_BATCH_TOKENS} padded tokens. */
    public ActivationCollector(Backend model, Tokenizer tokenizer, int batchSize) {
        this(model, tokenizer, batchSize, DEFAULT_BATCH_TOKENS);
    }

    /**
     * @param batchSize   most prompts per forward pass
     * @param batchTokens most padded tokens (rows x longest prompt) per forward pass; a longer prompt runs alone
     */
    public ActivationCollector(Backend model, Tokenizer tokenizer, int batchSize, int batchTokens) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (batchTokens < 1) {
            throw new IllegalArgumentException("batch tokens must be >= 1, got " + batchTokens);
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.batchSize = batchSize;
        this.batchTokens = batchTokens;
    }

    public int batchSize() {
        return batchSize;
    }

    public int batchTokens() {
        return batchTokens;
    }

    /**
     * The prompt's tokens as docs/method.md section 2 formats them: one user turn with the generation prompt appended, so the
     * last token is where the reply would start; or the raw text (base models).
     */
    public int[] promptTokens(String prompt, boolean chatTemplate) {
        String text = chatTemplate ? tokenizer.formatChat(List.of(new ChatMessage("user", prompt)), true) : prompt;
        return tokenizer.encodePrompt(text);
    }

    /**
     * Neuron activations (the input of the down projection) at each prompt's last token.
     *
     * @param layers   which layers to record; the others are null in what the consumer receives
     * @param progress called with the number of prompts done after each batch, or null
     * @param consumer receives (prompt index, activations [layer][neuron]), in batch order
     */
    public void neurons(List<String> prompts, boolean chatTemplate, boolean[] layers, IntConsumer progress,
                        BiConsumer<Integer, float[][]> consumer) {
        collect(prompts, chatTemplate, layers, ActivationCapture::lastPosition, progress, consumer);
    }

    /** {@link #neurons} gathered into [prompt][layer][neuron], in prompt order. */
    public float[][][] neurons(List<String> prompts, boolean chatTemplate, boolean[] layers) {
        float[][][] out = new float[prompts.size()][][];
        neurons(prompts, chatTemplate, layers, null, (i, a) -> out[i] = a);
        return out;
    }

    /** MLP outputs (after the down projection) at each prompt's last token, [prompt][layer][hidden]: CAA's input. */
    public float[][][] mlpOutputs(List<String> prompts, boolean chatTemplate, boolean[] layers) {
        float[][][] out = new float[prompts.size()][][];
        collect(prompts, chatTemplate, layers, ActivationCapture::mlpOutputLastPosition, null, (i, a) -> out[i] = a);
        return out;
    }

    private void collect(List<String> prompts, boolean chatTemplate, boolean[] layers,
                         Function<boolean[], ActivationCapture> capture, IntConsumer progress,
                         BiConsumer<Integer, float[][]> consumer) {
        List<int[]> tokens = prompts.stream().map(p -> promptTokens(p, chatTemplate)).toList();
        List<Integer> order = IntStream.range(0, prompts.size()).boxed()
                .sorted(Comparator.comparingInt(i -> tokens.get(i).length)).toList();
        int done = 0;
        for (int start = 0, end; start < order.size(); start = end) {
            // Sorted by length, so the prompt being added is the batch's longest: rows x its length is the padded size.
            end = start + 1;
            while (end < order.size() && end - start < batchSize
                    && (long) (end - start + 1) * tokens.get(order.get(end)).length <= batchTokens) {
                end++;
            }
            List<Integer> batch = order.subList(start, end);
            List<int[]> batchTokens = new ArrayList<>(batch.size());
            batch.forEach(i -> batchTokens.add(tokens.get(i)));
            try (ActivationCapture hook = capture.apply(layers)) {
                model.observe(batchTokens, hook);
                float[][][] acts = hook.activations(); // [layer][row][neuron]
                for (int row = 0; row < batch.size(); row++) {
                    float[][] perLayer = new float[layers.length][];
                    for (int l = 0; l < layers.length; l++) {
                        perLayer[l] = acts[l] == null ? null : acts[l][row];
                    }
                    consumer.accept(batch.get(row), perLayer);
                }
            }
            done += batch.size();
            if (progress != null) {
                progress.accept(done);
            }
        }
    }
}
