package dev.cna.steering;

import dev.cna.api.CircuitChange;
import dev.cna.core.circuit.CircuitJson;
import dev.cna.core.circuit.InvalidCircuitException;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.steer.CompiledCircuit;
import dev.cna.core.steer.ForeignCircuitException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Every circuit of the compacted {@code cna.circuits} topic that fits the running model, newest version per
 * name, each compiled once. The whole topic is read from the beginning by this instance alone (assigned
 * partitions, no consumer group), then followed; a tombstone deletes. Circuits of another model are refused,
 * logged and counted, and leave the registry as it was.
 */
public final class CircuitRegistry implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CircuitRegistry.class);
    private static final Duration POLL = Duration.ofMillis(100);
    /** How often to look for partitions added to the topic (or the topic itself, before it exists). */
    private static final long PARTITION_CHECK_NANOS = Duration.ofSeconds(5).toNanos();

    /** A circuit version in the registry and when its record was written to Kafka. */
    public record Entry(CompiledCircuit compiled, long publishedAtMillis) {}

    private final String bootstrap;
    private final String topic;
    private final ModelConfig config;
    private final String fingerprint;
    private final Map<String, Entry> circuits = new ConcurrentHashMap<>();
    private final List<Consumer<CircuitChange>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong invalid = new AtomicLong();
    private final Thread thread;
    private volatile KafkaConsumer<String, String> consumer;
    private volatile boolean caughtUp;
    private volatile String failure;
    private volatile boolean closed;

    public CircuitRegistry(String bootstrap, String topic, ModelConfig config, String fingerprint) {
        this.bootstrap = bootstrap;
        this.topic = topic;
        this.config = config;
        this.fingerprint = fingerprint;
        this.thread = new Thread(this::run, "cna-circuit-registry");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** True once every record that was in the topic at start-up has been read. */
    public boolean caughtUp() {
        return caughtUp;
    }

    /** Why the registry stopped following the topic, or null while it follows it. */
    public String failure() {
        return failure;
    }

    public Optional<Entry> get(String name) {
        return Optional.ofNullable(circuits.get(name));
    }

    public Collection<Entry> all() {
        return List.copyOf(circuits.values());
    }

    public void addListener(Consumer<CircuitChange> listener) {
        listeners.add(listener);
    }

    public void removeListener(Consumer<CircuitChange> listener) {
        listeners.remove(listener);
    }

    /** Records for another model (fingerprint or shape). */
    public long refusedCount() {
        return refused.get();
    }

    /** Records that are not a valid circuit for their key. */
    public long invalidCount() {
        return invalid.get();
    }

    private void run() {
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                // Reading must never create the topic (with the broker's defaults instead of compaction).
                ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
            consumer = c;
            Set<TopicPartition> assigned = new HashSet<>();
            Map<TopicPartition, Long> catchUpTo = null;
            long nextPartitionCheck = 0;
            while (!closed) {
                if (System.nanoTime() >= nextPartitionCheck) {
                    Set<TopicPartition> added = newPartitions(c, assigned);
                    if (!added.isEmpty()) {
                        assigned.addAll(added);
                        c.assign(assigned);
                        c.seekToBeginning(added);
                    }
                    if (catchUpTo == null) {
                        catchUpTo = new HashMap<>(c.endOffsets(assigned));
                    }
                    nextPartitionCheck = System.nanoTime() + PARTITION_CHECK_NANOS;
                }
                if (!assigned.isEmpty()) {
                    for (ConsumerRecord<String, String> r : c.poll(POLL)) {
                        apply(r);
                    }
                } else {
                    Thread.sleep(POLL.toMillis());
                }
                if (!caughtUp && catchUpTo != null && reached(c, catchUpTo)) {
                    caughtUp = true;
                    LOG.infof("circuit registry caught up with %s: %d circuits, %d refused, %d invalid",
                            topic, circuits.size(), refused.get(), invalid.get());
                }
            }
        } catch (WakeupException | InterruptedException e) {
            // closing
        } catch (RuntimeException e) {
            failure = e.toString();
            LOG.errorf(e, "circuit registry stopped reading %s", topic);
        }
    }

    private Set<TopicPartition> newPartitions(KafkaConsumer<String, String> c, Set<TopicPartition> assigned) {
        Set<TopicPartition> added = new HashSet<>();
        List<PartitionInfo> infos = c.partitionsFor(topic);
        for (PartitionInfo p : infos == null ? List.<PartitionInfo>of() : infos) {
            TopicPartition tp = new TopicPartition(p.topic(), p.partition());
            if (!assigned.contains(tp)) {
                added.add(tp);
            }
        }
        return added;
    }

    private static boolean reached(KafkaConsumer<String, String> c, Map<TopicPartition, Long> targets) {
        for (Map.Entry<TopicPartition, Long> t : targets.entrySet()) {
            if (c.position(t.getKey()) < t.getValue()) {
                return false;
            }
        }
        return true;
    }

    private void apply(ConsumerRecord<String, String> r) {
        String where = r.topic() + "-" + r.partition() + "@" + r.offset();
        if (r.key() == null) {
            invalid.incrementAndGet();
            LOG.warnf("ignored a circuit record without a key at %s", where);
            return;
        }
        if (r.value() == null) {
            if (circuits.remove(r.key()) != null) {
                LOG.infof("circuit %s deleted (%s)", r.key(), where);
                notify(new CircuitChange(r.key(), null, r.timestamp()));
            }
            return;
        }
        CompiledCircuit compiled;
        try {
            var circuit = CircuitJson.read(r.value());
            if (!circuit.name().equals(r.key())) {
                throw new InvalidCircuitException("the circuit is named " + circuit.name() + " but its key is " + r.key(), null);
            }
            compiled = CompiledCircuit.compile(circuit, config, fingerprint);
        } catch (ForeignCircuitException e) {
            refused.incrementAndGet();
            LOG.warnf("refused circuit %s at %s: %s", r.key(), where, e.getMessage());
            return;
        } catch (InvalidCircuitException e) {
            invalid.incrementAndGet();
            LOG.warnf("ignored an invalid circuit record %s at %s: %s", r.key(), where, e.getMessage());
            return;
        }
        circuits.put(r.key(), new Entry(compiled, r.timestamp()));
        LOG.infof("circuit %s version %d (%d neurons) from %s", r.key(), compiled.version(), compiled.circuit().neurons().size(), where);
        notify(new CircuitChange(r.key(), compiled.version(), r.timestamp()));
    }

    private void notify(CircuitChange change) {
        for (Consumer<CircuitChange> l : listeners) {
            try {
                l.accept(change);
            } catch (RuntimeException e) {
                LOG.warnf(e, "a registry listener failed on %s", change.name());
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        KafkaConsumer<String, String> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
