package dev.cna.steering;

import dev.cna.api.StreamEvent;
import dev.cna.core.generate.ContinuousBatch;
import dev.cna.core.generate.Generation;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.generate.TokenLogprobs;
import dev.cna.core.steer.CompiledCircuit;
import dev.cna.core.steer.SteeringPlan;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * One request on its way through the scheduler: a row of the continuous batch. It resolves its circuits
 * from the registry (at every token in {@link Mode#LIVE}, once at the start in {@link Mode#PINNED}) and turns
 * the row's progress into {@link StreamEvent}s. Called by the decode thread only, except {@link #cancel}.
 */
public final class GenerationJob implements ContinuousBatch.Sequence {
    public enum Mode { LIVE, PINNED }

    /** A circuit by name and the factor for its neurons. */
    public record Steering(String circuit, float multiplier) {}

    /** Where the job's events go; {@code end} closes the stream after the last event. */
    public interface Sink {
        void send(StreamEvent event);

        void end();
    }

    private final int[] prompt;
    private final SamplingParams params;
    private final List<Steering> steering;
    private final Mode mode;
    private final CircuitRegistry registry;
    private final int layers;
    private final Sink sink;
    private final LongConsumer swapLatencyMillis;
    private final TokenTexts texts;
    private final long enqueuedNanos = System.nanoTime();
    private long startedNanos;
    private volatile boolean cancelled;

    private List<CompiledCircuit> applied;       // aligned with steering; null where the circuit is absent
    private long resolvedAt = -1;                // the registry's change count when applied was looked up
    private SteeringPlan plan;
    private Map<String, Long> versions = Map.of();
    private final List<Long> swapsPublishedAt = new ArrayList<>(); // versions applied, waiting for their first token
    private int generated;

    /**
     * @param swapLatencyMillis receives, for each circuit version swapped in mid-stream, the time from its
     *                          publication to the first token generated under it
     */
    public GenerationJob(int[] prompt, SamplingParams params, List<Steering> steering, Mode mode, CircuitRegistry registry,
                         int layers, Sink sink, LongConsumer swapLatencyMillis) {
        this(prompt, params, steering, mode, registry, layers, sink, swapLatencyMillis, null);
    }

    /** @param texts the tokens' texts for log-probability events; null when the params ask for none */
    GenerationJob(int[] prompt, SamplingParams params, List<Steering> steering, Mode mode, CircuitRegistry registry,
                  int layers, Sink sink, LongConsumer swapLatencyMillis, TokenTexts texts) {
        this.texts = texts;
        this.prompt = prompt;
        this.params = params;
        this.steering = List.copyOf(steering);
        this.mode = mode;
        this.registry = registry;
        this.layers = layers;
        this.sink = sink;
        this.swapLatencyMillis = swapLatencyMillis;
        if (mode == Mode.PINNED) {
            resolve(); // the versions seen at the start, kept to the end
        }
    }

    /** Stops the job at the next token boundary (the client went away). */
    public void cancel() {
        cancelled = true;
    }

    /** Ends a job that never ran (cancelled while queued, or the service is stopping). */
    void abandon(String reason) {
        sink.send(new StreamEvent.Error("generation not started", reason));
        sink.end();
    }

    @Override
    public int[] prompt() {
        return prompt;
    }

    @Override
    public SamplingParams params() {
        return params;
    }

    @Override
    public SteeringPlan steering() {
        if (startedNanos == 0) {
            startedNanos = System.nanoTime();
        }
        if (mode == Mode.LIVE || plan == null) {
            resolve();
        }
        return plan;
    }

    /** Looks the circuits up; when any version differs from the applied one, recomposes the plan and says so. */
    private void resolve() {
        long changes = registry.changeCount(); // read before the lookups: a change after it shows at the next call
        if (applied != null && changes == resolvedAt) {
            return;
        }
        resolvedAt = changes;
        List<CircuitRegistry.Entry> current = steering.stream().map(s -> registry.get(s.circuit()).orElse(null)).toList();
        List<CompiledCircuit> compiled = current.stream().map(e -> e == null ? null : e.compiled()).toList();
        if (applied != null && ContinuousBatch.sameInstances(compiled, applied)) {
            return;
        }
        List<CompiledCircuit.Scaled> scaled = new ArrayList<>();
        Map<String, Long> now = new LinkedHashMap<>();
        for (int i = 0; i < steering.size(); i++) {
            CompiledCircuit c = compiled.get(i);
            if (c != null) {
                scaled.add(c.times(steering.get(i).multiplier()));
                now.put(c.name(), c.version());
            }
            if (applied != null && c != applied.get(i)) {
                CompiledCircuit before = applied.get(i);
                sink.send(new StreamEvent.CircuitSwap(generated, steering.get(i).circuit(),
                        before == null ? null : before.version(), c == null ? null : c.version()));
                if (c != null) {
                    swapsPublishedAt.add(current.get(i).publishedAtMillis());
                }
            }
        }
        applied = compiled;
        versions = Map.copyOf(now);
        plan = SteeringPlan.compose(scaled, layers);
    }

    @Override
    public boolean cancelled() {
        return cancelled;
    }

    @Override
    public void onPrefill(int done, int total) {
        sink.send(new StreamEvent.Prefill(done, total));
    }

    @Override
    public boolean onToken(int token, String text) {
        return onToken(token, text, null);
    }

    @Override
    public boolean onToken(int token, String text, TokenLogprobs logprobs) {
        if (token < 0) {
            sink.send(new StreamEvent.Token(Math.max(0, generated - 1), null, text, versions));
            return !cancelled;
        }
        sink.send(logprobs == null || texts == null ? new StreamEvent.Token(generated++, token, text, versions)
                : new StreamEvent.Token(generated++, token, text, versions, (double) logprobs.logprob(), texts.top(logprobs)));
        if (!swapsPublishedAt.isEmpty()) {
            long now = System.currentTimeMillis();
            swapsPublishedAt.forEach(published -> swapLatencyMillis.accept(now - published));
            swapsPublishedAt.clear();
        }
        return !cancelled;
    }

    @Override
    public void onFinish(Generation g) {
        int completion = g.tokens().length;
        double queueMs = ((startedNanos == 0 ? System.nanoTime() : startedNanos) - enqueuedNanos) / 1e6;
        sink.send(new StreamEvent.Done(g.finishReason().name().toLowerCase(Locale.ROOT),
                new StreamEvent.Usage(g.promptTokens(), completion, g.promptTokens() + completion),
                new StreamEvent.Timings(queueMs, g.prefillNanos() / 1e6, g.decodeNanos() / 1e6, g.decodeTokensPerSecond()),
                versions));
        sink.end();
    }

    @Override
    public void onError(RuntimeException error) {
        sink.send(new StreamEvent.Error("generation failed", Objects.requireNonNullElse(error.getMessage(), error.toString())));
        sink.end();
    }
}
