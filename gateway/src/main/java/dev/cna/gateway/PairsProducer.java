package dev.cna.gateway;

import dev.cna.api.ProblemType;
import dev.cna.api.PromptPairEvent;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends prompt-pair events to the {@value #CHANNEL} channel (application.properties: topic {@code cna.prompt-pairs},
 * key = feature, acks=all, idempotent) and waits for Kafka's acknowledgement of each: the answer needs the partition
 * and offset, which the connector hands back as the record metadata of the acknowledged send.
 */
@ApplicationScoped
public class PairsProducer {
    static final String CHANNEL = "prompt-pairs";

    private final Emitter<PromptPairEvent> emitter;
    private final Duration timeout;

    PairsProducer(@Channel(CHANNEL) Emitter<PromptPairEvent> emitter, GatewayConfig config) {
        this.emitter = emitter;
        this.timeout = Duration.ofMillis(config.kafkaTimeoutMs());
    }

    /**
     * Sends the events of one feature in order; 202's content once Kafka has acknowledged all of them, else 503
     * (within {@code cna.gateway.kafka-timeout-ms}) saying how many were written.
     */
    public Ingested send(String feature, List<PromptPairEvent> events) {
        List<CompletableFuture<RecordMetadata>> acks = new ArrayList<>(events.size());
        try {
            for (PromptPairEvent event : events) {
                acks.add(KafkaAck.send(emitter, feature, event));
            }
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("the gateway is shutting down", acks, events.size());
        } catch (ExecutionException e) {
            throw unavailable(KafkaAck.reason(e), acks, events.size());
        } catch (TimeoutException e) {
            throw unavailable("no answer", acks, events.size());
        } catch (IllegalStateException e) { // the emitter's buffer is full: Kafka has been away for a while
            throw unavailable(e.getMessage(), acks, events.size());
        }
        RecordMetadata first = acks.get(0).join();
        Log.infof("produced %d events for feature %s at %s-%d@%d", events.size(), feature, first.topic(), first.partition(),
                first.offset());
        return new Ingested(events.stream().map(PromptPairEvent::id).toList(), feature, first.topic(), first.partition(),
                first.offset());
    }

    /** Says how many events made it, so a client that sent a list knows what a retry would repeat. */
    private ProblemException unavailable(String why, List<CompletableFuture<RecordMetadata>> acks, int events) {
        long written = acks.stream().filter(ack -> ack.isDone() && !ack.isCompletedExceptionally()).count();
        Log.warnf("Kafka did not take the events: %s", why);
        return new ProblemException(ProblemType.SERVICE_UNAVAILABLE, "Kafka did not acknowledge the events within "
                + timeout.toMillis() + " ms (" + why + "); " + written + " of " + events + " were written", timeout);
    }
}
