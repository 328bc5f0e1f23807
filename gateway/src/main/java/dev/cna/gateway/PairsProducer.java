package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.ProblemType;
import dev.cna.api.PromptPairEvent;
import dev.cna.api.Topics;
import io.quarkus.logging.Log;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Produces prompt-pair events to {@value Topics#PROMPT_PAIRS}, keyed by feature, and waits for the acknowledgement (acks=all,
 * idempotent). A plain KafkaProducer, as attribution-service uses: the answer needs the partition and offset.
 */
@ApplicationScoped
public class PairsProducer {
    private final ObjectMapper json;
    private final KafkaProducer<String, String> producer;
    private final GatewayConfig config;

    PairsProducer(ObjectMapper json, GatewayConfig config, @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
        this.json = json;
        this.config = config;
        int timeoutMs = (int) config.kafkaTimeout().toMillis();
        // The constructor does not connect: the gateway starts (and chats) while Kafka is down.
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 0, // the client waits for the ack: do not hold the batch
                ProducerConfig.MAX_BLOCK_MS_CONFIG, timeoutMs, // waiting for metadata when Kafka is away
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeoutMs, // must be >= linger + request timeout
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
    }

    /** Sends the events of one feature in order; 503 when Kafka does not take all of them in time. */
    public Ingested send(String feature, List<PromptPairEvent> events) {
        List<Future<RecordMetadata>> acks = new ArrayList<>(events.size());
        try {
            for (PromptPairEvent event : events) {
                acks.add(producer.send(new ProducerRecord<>(Topics.PROMPT_PAIRS, feature, json.writeValueAsString(event))));
            }
            RecordMetadata first = acks.get(0).get();
            for (Future<RecordMetadata> ack : acks) {
                ack.get();
            }
            Log.infof("produced %d events for feature %s at %s-%d@%d", events.size(), feature, Topics.PROMPT_PAIRS, first.partition(),
                    first.offset());
            return new Ingested(events.stream().map(PromptPairEvent::id).toList(), feature, Topics.PROMPT_PAIRS, first.partition(),
                    first.offset());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write an event as JSON", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("the gateway is shutting down");
        } catch (ExecutionException e) {
            throw unavailable(e.getCause(), acks);
        } catch (KafkaException e) {
            throw unavailable(e, acks);
        }
    }

    /** Says how many events made it, so a client that sent a list knows what a retry would repeat. */
    private ProblemException unavailable(Throwable cause, List<Future<RecordMetadata>> acks) {
        Log.warnf("Kafka did not take the events: %s", cause.toString());
        long written = acks.stream().filter(PairsProducer::acknowledged).count();
        return unavailable("Kafka did not acknowledge the events within " + config.kafkaTimeout() + " ("
                + cause.getClass().getSimpleName() + "); " + written + " were written");
    }

    private ProblemException unavailable(String detail) {
        return new ProblemException(ProblemType.SERVICE_UNAVAILABLE, detail, config.kafkaTimeout());
    }

    private static boolean acknowledged(Future<RecordMetadata> ack) {
        try {
            return ack.isDone() && ack.get() != null;
        } catch (ExecutionException | InterruptedException e) {
            return false;
        }
    }

    @PreDestroy
    void close() {
        producer.close();
    }
}
