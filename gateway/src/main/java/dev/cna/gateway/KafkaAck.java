package dev.cna.gateway;

import io.smallrye.reactive.messaging.OutgoingMessageMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Metadata;

import java.util.concurrent.CompletableFuture;

/** One keyed record sent on an {@link Emitter}'s Kafka channel, with where Kafka wrote it once acknowledged. */
final class KafkaAck {
    private KafkaAck() {}

    /**
     * Sends {@code value} with record key {@code key}; completes with the written record's metadata once the broker
     * has acknowledged it (the channel's acks), or fails with why it was not written. May throw
     * {@link IllegalStateException} at once when the emitter's buffer is full.
     */
    static <T> CompletableFuture<RecordMetadata> send(Emitter<T> emitter, String key, T value) {
        CompletableFuture<RecordMetadata> written = new CompletableFuture<>();
        // The connector puts the acknowledged record's metadata here before it acknowledges the message.
        OutgoingMessageMetadata<RecordMetadata> result = new OutgoingMessageMetadata<>();
        emitter.send(Message.of(value, Metadata.of(OutgoingKafkaRecordMetadata.<String>builder().withKey(key).build(), result),
                () -> {
                    written.complete(result.getResult());
                    return CompletableFuture.completedFuture(null);
                },
                failure -> {
                    written.completeExceptionally(failure);
                    return CompletableFuture.completedFuture(null);
                }));
        return written;
    }

    /** The producer's own reason (TimeoutException: ...), below the connector's "retries exhausted" wrapping. */
    static String reason(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
