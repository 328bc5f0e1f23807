package dev.cna.core.generate;

import dev.cna.core.runtime.KvCache;
import dev.cna.core.runtime.MlpHook;
import dev.cna.core.runtime.Transformer;
import dev.cna.core.tokenizer.StreamingDetokenizer;
import dev.cna.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;

/** Generates replies for a batch of prompts, streaming each row's text as it is produced. */
public final class Generator {
    private final Transformer model;
    private final Tokenizer tokenizer;

    public Generator(Transformer model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** Per-row progress through one reply. */
    private final class Row {
        final SamplingParams params;
        final Sampler sampler;
        final StreamingDetokenizer detokenizer = new StreamingDetokenizer(tokenizer);
        final StopStrings stops;
        final StringBuilder text = new StringBuilder();
        final List<Integer> tokens = new ArrayList<>();
        final int promptTokens;
        FinishReason finish;
        long decodeNanos;

        Row(int promptTokens, SamplingParams params) {
            this.promptTokens = promptTokens;
            this.params = params;
            this.sampler = new Sampler(params);
            this.stops = new StopStrings(params.stop());
        }
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
        int[] stopIds = tokenizer.stopIds();
        int context = model.config().contextLength();
        Row[] rows = new Row[batch];
        for (int b = 0; b < batch; b++) {
            if (prompts.get(b).length >= context) {
                throw new IllegalArgumentException("prompt " + b + " has " + prompts.get(b).length
                        + " tokens; the model's context is " + context);
            }
            rows[b] = new Row(prompts.get(b).length, params.get(b));
        }
        try (KvCache cache = model.newCache(batch)) {
            long start = System.nanoTime();
            float[][] logits = model.prefill(cache, prompts, hook);
            long prefillNanos = System.nanoTime() - start;
            long decodeStart = System.nanoTime();
            int[] next = new int[batch];
            int active = batch;
            while (active > 0) {
                for (int b = 0; b < batch; b++) {
                    Row row = rows[b];
                    if (row.finish != null) {
                        next[b] = stopIds[0]; // finished rows ride along until the batch is done
                        continue;
                    }
                    int token = row.sampler.next(logits[b]);
                    next[b] = token;
                    row.finish = accept(row, b, token, stopIds, cache.length(b) + 1 >= context, listener);
                    if (row.finish != null) {
                        row.decodeNanos = System.nanoTime() - decodeStart;
                        active--;
                    }
                }
                if (active > 0) {
                    logits = model.decode(cache, next, hook);
                }
            }
            List<Generation> out = new ArrayList<>(batch);
            for (Row row : rows) {
                int[] ids = row.tokens.stream().mapToInt(Integer::intValue).toArray();
                out.add(new Generation(row.text.toString(), ids, row.finish, row.promptTokens, prefillNanos, row.decodeNanos));
            }
            return out;
        }
    }

    /** Takes a sampled token into the row; returns why the row ends now, or null to go on. */
    private FinishReason accept(Row row, int b, int token, int[] stopIds, boolean contextFull, TokenListener listener) {
        if (Arrays.stream(stopIds).anyMatch(id -> id == token)) {
            emit(row, b, token, row.stops.push(row.detokenizer.flush()) + row.stops.flush(), listener);
            return FinishReason.STOP;
        }
        row.tokens.add(token);
        String text = row.stops.push(row.detokenizer.push(token));
        boolean more = emit(row, b, token, text, listener);
        if (row.stops.stopped()) {
            return FinishReason.STOP;
        }
        if (!more) {
            return FinishReason.CANCELLED;
        }
        if (row.tokens.size() >= row.params.maxTokens() || contextFull) {
            emit(row, b, token, row.stops.push(row.detokenizer.flush()) + row.stops.flush(), listener);
            return FinishReason.LENGTH;
        }
        return null;
    }

    private static boolean emit(Row row, int b, int token, String text, TokenListener listener) {
        row.text.append(text);
        return listener == null || listener.onToken(b, token, text);
    }

    /** A streamed reply: one event per token, then the finished generation. */
    public sealed interface StreamEvent permits TokenEvent, DoneEvent {}

    public record TokenEvent(int token, String text) implements StreamEvent {}

    public record DoneEvent(Generation generation) implements StreamEvent {}

    /**
     * Streams one reply as a cold Flow publisher: each subscriber gets its own generation, run on the
     * executor. A slow subscriber pauses generation (submit blocks on a full buffer); cancelling the
     * subscription stops it at the next token.
     */
    public Flow.Publisher<StreamEvent> stream(int[] prompt, SamplingParams params, MlpHook hook, Executor executor) {
        return subscriber -> {
            SubmissionPublisher<StreamEvent> publisher = new SubmissionPublisher<>(executor, Flow.defaultBufferSize());
            publisher.subscribe(subscriber);
            executor.execute(() -> {
                try {
                    Generation g = generate(List.of(prompt), List.of(params), hook, (row, token, text) -> {
                        if (publisher.getNumberOfSubscribers() == 0) {
                            return false;
                        }
                        publisher.submit(new TokenEvent(token, text));
                        return true;
                    }).get(0);
                    publisher.submit(new DoneEvent(g));
                    publisher.close();
                } catch (RuntimeException e) {
                    publisher.closeExceptionally(e);
                }
            });
        };
    }
}
