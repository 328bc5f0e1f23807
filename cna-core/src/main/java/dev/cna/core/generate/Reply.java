package dev.cna.core.generate;

import dev.cna.core.generate.constraint.TokenConstraint;
import dev.cna.core.tokenizer.StreamingDetokenizer;
import dev.cna.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/** One row's progress through its reply: sampling, detokenizing, stop strings and the budget. */
final class Reply {
    /**
     * Where a row's text goes: one call per generated token, then at most one call with token {@link #NO_TOKEN}
     * for text held back until the end (a possible stop string, an incomplete character). False asks to stop.
     */
    @FunctionalInterface
    interface Sink {
        /** @param logprobs the token's log-probabilities when the request asked for them, else null (always for NO_TOKEN) */
        boolean emit(int token, String text, TokenLogprobs logprobs);
    }

    static final int NO_TOKEN = -1;

    final SamplingParams params;
    final int promptTokens;
    private final Sampler sampler;
    private final TokenConstraint.Row constraint; // null for free text
    private final StreamingDetokenizer detokenizer;
    private final StopStrings stops;
    private final LogitControls controls;
    private TokenLogprobs logprobs; // of the token being accepted
    private final int[] stopIds;
    private final StringBuilder text = new StringBuilder();
    private final List<Integer> tokens = new ArrayList<>();
    private FinishReason finish;
    private long decodeNanos;

    Reply(Tokenizer tokenizer, int[] prompt, SamplingParams params) {
        this.params = params;
        this.promptTokens = prompt.length;
        this.controls = new LogitControls(params.controls(), prompt);
        this.sampler = new Sampler(params);
        this.constraint = params.constraint() == null ? null : params.constraint().start();
        this.detokenizer = new StreamingDetokenizer(tokenizer);
        this.stops = new StopStrings(params.stop());
        this.stopIds = tokenizer.stopIds();
    }

    /**
     * Samples the next token from the row's logits and takes it into the reply.
     *
     * @param contextFull whether the model's context has no room for another token after this one
     * @return the token fed to the next forward pass; meaningless once {@link #finished()}
     */
    int next(float[] logits, boolean contextFull, Sink sink) {
        float[] controlled = controls.apply(logits);
        int token = sampler.next(controlled);
        if (constraint != null) {
            token = constraint.choose(token, controlled, sampler::next);
        }
        int top = params.controls().logprobs();
        logprobs = top < 0 ? null : Logprobs.of(logits, token, top);
        finish = accept(token, contextFull, sink);
        return token;
    }

    /** Ends the reply without another token (the caller cancelled it). */
    void cancel() {
        finish = FinishReason.CANCELLED;
    }

    boolean finished() {
        return finish != null;
    }

    void markDecodeEnd(long nanos) {
        decodeNanos = nanos;
    }

    Generation generation(long prefillNanos) {
        int[] ids = tokens.stream().mapToInt(Integer::intValue).toArray();
        return new Generation(text.toString(), ids, finish, promptTokens, prefillNanos, decodeNanos);
    }

    /** Returns why the reply ends with this token, or null to go on. */
    private FinishReason accept(int token, boolean contextFull, Sink sink) {
        for (int id : stopIds) {
            if (id == token) {
                flush(sink);
                return FinishReason.STOP;
            }
        }
        tokens.add(token);
        controls.accept(token);
        boolean more = emit(token, stops.push(detokenizer.push(token)), logprobs, sink);
        if (stops.stopped()) {
            return FinishReason.STOP;
        }
        if (!more) {
            return FinishReason.CANCELLED;
        }
        if (tokens.size() >= params.maxTokens() || contextFull) {
            flush(sink);
            return FinishReason.LENGTH;
        }
        return null;
    }

    private void flush(Sink sink) {
        String rest = stops.push(detokenizer.flush()) + stops.flush();
        if (!rest.isEmpty()) {
            emit(NO_TOKEN, rest, null, sink);
        }
    }

    private boolean emit(int token, String piece, TokenLogprobs logprobs, Sink sink) {
        text.append(piece);
        return sink.emit(token, piece, logprobs);
    }
}
