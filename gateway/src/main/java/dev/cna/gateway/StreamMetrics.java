package dev.cna.gateway;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.smallrye.mutiny.Multi;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Generation streams as operators see them: how many are open now ({@code cna_gateway_streams_open}) and the
 * time from the request to its first token ({@code cna_gateway_time_to_first_token_seconds}, with p50/p99).
 */
@ApplicationScoped
public class StreamMetrics {
    private final AtomicInteger open;
    private final Timer firstToken;

    StreamMetrics(MeterRegistry registry) {
        open = registry.gauge("cna.gateway.streams.open", new AtomicInteger());
        firstToken = Timer.builder("cna.gateway.time.to.first.token")
                .description("From the gateway receiving a generation request to the first token from steering-service")
                .publishPercentiles(0.5, 0.99).register(registry);
    }

    /** The same events, counted while subscribed and timed from now to the first token event. */
    public Multi<UpstreamEvent> track(Multi<UpstreamEvent> events) {
        long start = System.nanoTime();
        AtomicBoolean first = new AtomicBoolean(true);
        return events
                .onSubscription().invoke(open::incrementAndGet)
                .onTermination().invoke(open::decrementAndGet)
                .onItem().invoke(e -> {
                    if (e.name().equals("token") && first.getAndSet(false)) {
                        firstToken.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                    }
                });
    }
}
