package dev.cna.steering;

import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.smallrye.reactive.messaging.PausableChannel;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The {@value #NAME} channel (application.properties): every record of the circuits topic from the beginning, for
 * this instance alone (its partitions assigned and sought to their start, no consumer group, nothing committed),
 * applied in order to the {@link CircuitRegistry}. It starts paused and {@link #feed} resumes it: circuits are compiled
 * against the model, so there is no registry before the model is loaded.
 *
 * <p>The connector has no notion of having caught up, so {@link #feed} asks the channel's own consumer, on its polling
 * thread, for the topic's partitions and their end offsets (read_committed: the last stable offset), and
 * {@link LastRecords} where the committed records before them stop (the offset before an end is often a transaction's
 * commit marker, which no consumer receives); the registry is caught up once it has applied those last records
 * (steering-service/README.md, "The circuits channel").
 */
@ApplicationScoped
public class CircuitChannel {
    static final String NAME = "circuits";
    private static final Logger LOG = Logger.getLogger(CircuitChannel.class);
    /** A bound on each metadata and offset lookup; a lookup that fails is tried again (backing off up to 10 s). */
    private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(10);

    private final PausableChannel channel;
    private final KafkaClientService kafka;
    private final String bootstrap;
    /** The next offset to apply, per partition. */
    private final Map<TopicPartition, Long> applied = new ConcurrentHashMap<>();
    private volatile CircuitRegistry registry;
    /**
     * Per partition that held committed records when the registry started, the offset after the last of them; null
     * until known.
     */
    private volatile Map<TopicPartition, Long> catchUpTo;

    CircuitChannel(@Channel(NAME) PausableChannel channel, KafkaClientService kafka,
                   @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
        this.channel = channel;
        this.kafka = kafka;
        this.bootstrap = bootstrap;
    }

    /** Applies the channel's records to the registry from now on, and takes the offsets it must catch up to. */
    void feed(CircuitRegistry registry) {
        this.registry = registry;
        catchUpOffsets(registry.topic()).subscribe().with(ends -> {
            catchUpTo = ends;
            checkCaughtUp();
        }, failure -> registry.fail(failure.getMessage()));
        channel.resume();
    }

    /** Compiling a circuit is CPU work: off the event loop, and in order. */
    @Incoming(NAME)
    @Blocking
    void receive(ConsumerRecord<String, String> record) {
        try {
            registry.apply(record);
        } catch (RuntimeException e) { // a bug: the failure strategy stops the channel, readiness says why
            registry.fail("cannot apply " + record.topic() + "-" + record.partition() + "@" + record.offset() + ": " + e);
            throw e;
        }
        applied.put(new TopicPartition(record.topic(), record.partition()), record.offset() + 1);
        checkCaughtUp();
    }

    private void checkCaughtUp() {
        Map<TopicPartition, Long> target = catchUpTo;
        if (target != null && target.entrySet().stream().allMatch(t -> applied.getOrDefault(t.getKey(), 0L) >= t.getValue())) {
            registry.markCaughtUp();
        }
    }

    /** Per partition with committed records at start, the offset after the last of them. */
    private Uni<Map<TopicPartition, Long>> catchUpOffsets(String topic) {
        return endOffsets(topic).onItem().transformToUni(ends -> Uni.createFrom()
                .item(() -> LastRecords.before(bootstrap, ends.end(), ends.beginning()))
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool()))
                .onFailure(RetriableException.class).invoke(f -> LOG.warnf("circuit registry waits for %s: %s", topic, f.getMessage()))
                .onFailure(RetriableException.class).retry().withBackOff(Duration.ofSeconds(1), Duration.ofSeconds(10)).indefinitely();
    }

    /** A topic's end offsets (its partitions that hold records) and beginning offsets. */
    private record Offsets(Map<TopicPartition, Long> end, Map<TopicPartition, Long> beginning) {
    }

    /**
     * The end and beginning offsets of the topic's partitions that hold records, from the channel's consumer. Every partition of the
     * topic must be assigned to the channel (assign-seek lists them): a partition left out would never be read. A topic
     * that does not exist yet, a channel not assigned yet or a broker that does not answer is asked again until it is.
     */
    private Uni<Offsets> endOffsets(String topic) {
        return kafka.<String, String>getConsumer(NAME).runOnPollingThread(consumer -> {
            Set<TopicPartition> partitions = consumer.partitionsFor(topic, LOOKUP_TIMEOUT).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).collect(Collectors.toSet());
            if (partitions.isEmpty()) {
                throw new UnknownTopicOrPartitionException("topic " + topic + " does not exist yet");
            }
            Set<TopicPartition> assigned = consumer.assignment();
            if (assigned.isEmpty()) {
                throw new UnknownTopicOrPartitionException("the circuits channel has not been assigned " + topic + " yet");
            }
            if (!assigned.containsAll(partitions)) {
                throw new IllegalStateException("the circuits channel reads " + assigned + " but " + topic + " has "
                        + partitions + ": list every partition in mp.messaging.incoming.circuits.assign-seek");
            }
            Map<TopicPartition, Long> beginning = consumer.beginningOffsets(partitions, LOOKUP_TIMEOUT);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, LOOKUP_TIMEOUT).entrySet().stream()
                    .filter(end -> end.getValue() > beginning.get(end.getKey()))
                    .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
            return new Offsets(ends, beginning);
        }).onFailure(RetriableException.class).invoke(f -> LOG.warnf("circuit registry waits for %s: %s", topic, f.getMessage()))
                .onFailure(RetriableException.class).retry().withBackOff(Duration.ofSeconds(1), Duration.ofSeconds(10)).indefinitely();
    }
}
