package dev.cna.attribution;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.EnumMap;
import java.util.Map;

/**
 * Counters: dead-lettered events per class, duplicates skipped, events applied, prompts run through the model, circuit
 * versions published, circuits not published because their selection failed.
 */
@ApplicationScoped
@Startup // every counter on /q/metrics from the start, also those still at 0 (a restart that runs no prompt)
public class DlqMetrics {
    private final Map<ErrorClass, Counter> dlq = new EnumMap<>(ErrorClass.class);
    private final Counter duplicates;
    private final Counter applied;
    private final Counter published;
    private final Counter tombstones;
    private final Counter selectionFailures;
    private final Counter prompts;

    DlqMetrics(MeterRegistry registry) {
        for (ErrorClass c : ErrorClass.values()) {
            dlq.put(c, Counter.builder("cna.attribution.dlq").description("events sent to cna.prompt-pairs.dlq")
                    .tag("class", c.header()).register(registry));
        }
        duplicates = Counter.builder("cna.attribution.duplicates").description("events skipped as already applied (by id)").register(registry);
        applied = Counter.builder("cna.attribution.events").description("prompt-pair events applied").register(registry);
        published = Counter.builder("cna.attribution.circuits.published").description("circuit versions published").register(registry);
        tombstones = Counter.builder("cna.attribution.circuits.tombstones").description("circuits deleted by reset").register(registry);
        selectionFailures = Counter.builder("cna.attribution.selection.failures")
                .description("circuits not published because their selection failed (the events stay applied)").register(registry);
        prompts = Counter.builder("cna.attribution.prompts").description("prompts run through the model").register(registry);
    }

    // Methods, not fields: callers hold a client proxy of this bean.
    public void dlq(ErrorClass c) {
        dlq.get(c).increment();
    }

    public void duplicate() {
        duplicates.increment();
    }

    public void applied(int events) {
        applied.increment(events);
    }

    public void published() {
        published.increment();
    }

    public void tombstone() {
        tombstones.increment();
    }

    public void prompt() {
        prompts.increment();
    }

    /** Prompts run through the model since the start. */
    public double prompts() {
        return prompts.count();
    }

    public void selectionFailed() {
        selectionFailures.increment();
    }
}
