package dev.cna.gateway;

import dev.cna.api.ProblemType;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends circuit versions to the {@value #CHANNEL} channel (application.properties: topic {@code cna.circuits},
 * cna-api's {@code Topics.CIRCUITS}, key = circuit name, value = the {@code cna.circuit/v1} JSON, acks=all) and waits
 * for Kafka's acknowledgement within {@code cna.gateway.kafka-timeout-ms}.
 */
@ApplicationScoped
public class CircuitPublisher {
    static final String CHANNEL = "circuits";

    private final Emitter<String> emitter;
    private final Duration timeout;

    CircuitPublisher(@Channel(CHANNEL) Emitter<String> emitter, GatewayConfig config) {
        this.emitter = emitter;
        this.timeout = Duration.ofMillis(config.kafkaTimeoutMs());
    }

    /** Publishes {@code circuitJson} under {@code name}; 503 with Retry-After when Kafka does not take it in time. */
    public PublishedCircuit publish(String name, long version, String circuitJson) {
        RecordMetadata written;
        try {
            written = KafkaAck.send(emitter, name, circuitJson).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("the gateway is shutting down");
        } catch (ExecutionException e) {
            throw unavailable(KafkaAck.reason(e));
        } catch (TimeoutException e) {
            throw unavailable("no answer");
        } catch (IllegalStateException e) { // the emitter's buffer is full: Kafka has been away for a while
            throw unavailable(e.getMessage());
        }
        return new PublishedCircuit(name, version, written.topic(), written.partition(), written.offset());
    }

    private ProblemException unavailable(String why) {
        Log.warnf("Kafka did not take the circuit: %s", why);
        return new ProblemException(ProblemType.SERVICE_UNAVAILABLE, "Kafka did not acknowledge the circuit within "
                + timeout.toMillis() + " ms (" + why + "); it may or may not have been written", timeout);
    }
}
