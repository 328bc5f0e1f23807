package dev.cna.steering;

import dev.cna.api.CircuitChange;
import dev.cna.core.circuit.CircuitJson;
import dev.cna.core.circuit.InvalidCircuitException;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.steer.CompiledCircuit;
import dev.cna.core.steer.ForeignCircuitException;
import io.quarkus.arc.Arc;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.operators.multi.processors.BroadcastProcessor;
import io.smallrye.mutiny.subscription.Cancellable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jboss.logging.Logger;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every circuit of the compacted {@code cna.circuits} topic that fits the running model, newest version per name,
 * each compiled once. Fed in order by the {@link CircuitChannel}, which reads the whole topic from the beginning for
 * this instance alone and then follows it; a tombstone deletes. Circuits of another model are refused, invalid
 * records skipped, both logged and counted, and leave the registry as it was.
 */
public final class CircuitRegistry implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CircuitRegistry.class);

    /** A circuit version in the registry and when its record was written to Kafka. */
    public record Entry(CompiledCircuit compiled, long publishedAtMillis) {}

    private final String topic;
    private final ModelConfig config;
    private final String fingerprint;
    private final Map<String, Entry> circuits = new ConcurrentHashMap<>();
    /** Each change as it is applied; hot: a subscriber sees the changes from its subscription on. */
    private final BroadcastProcessor<CircuitChange> applied = BroadcastProcessor.create();
    /** Held while a change is applied and while a new subscriber takes its snapshot, so it misses none. */
    private final Object changing = new Object();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong invalid = new AtomicLong();
    private final AtomicBoolean caughtUp = new AtomicBoolean();
    private volatile String failure;
    private volatile long changeCount;

    /**
     * @param bootstrap   not used: the channel connects to {@code kafka.bootstrap.servers}, the same key SteeringRuntime
     *                    reads this from; the parameter stays as long as SteeringRuntime passes it
     * @param topic       {@code cna.steering.circuits-topic}, which the channel's {@code topic} is set to
     * @param config      the running model's shape, which a circuit must fit
     * @param fingerprint the running model's fingerprint, which a circuit must carry
     */
    public CircuitRegistry(String bootstrap, String topic, ModelConfig config, String fingerprint) {
        this.topic = topic;
        this.config = config;
        this.fingerprint = fingerprint;
    }

    /**
     * Starts following the topic: hands this registry to the circuits channel, which starts paused because circuits
     * are compiled against the model and SteeringRuntime builds the registry only once the model is loaded.
     */
    public void start() {
        Arc.container().instance(CircuitChannel.class).get().feed(this);
    }

    /** The topic the registry follows. */
    public String topic() {
        return topic;
    }

    /** True once every record that was in the topic when the registry started has been applied. */
    public boolean caughtUp() {
        return caughtUp.get();
    }

    void markCaughtUp() {
        if (caughtUp.compareAndSet(false, true)) {
            LOG.infof("circuit registry caught up with %s: %d circuits, %d refused, %d invalid", topic, circuits.size(),
                    refused.get(), invalid.get());
        }
    }

    /** Why the registry stopped following the topic, or null while it follows it. */
    public String failure() {
        return failure;
    }

    void fail(String why) {
        failure = why;
        LOG.errorf("circuit registry stopped following %s: %s", topic, why);
    }

    /**
     * How many new versions and deletions have been applied. Written after the change itself, so a reader that sees
     * the same count as before has nothing new to look up (generation jobs ask between the layers of every pass).
     */
    public long changeCount() {
        return changeCount;
    }

    public Optional<Entry> get(String name) {
        return Optional.ofNullable(circuits.get(name));
    }

    public Collection<Entry> all() {
        return List.copyOf(circuits.values());
    }

    /**
     * Every circuit in the registry now, then each change as it is applied (deleted: version null), in that order and
     * without a gap: the snapshot is taken and the subscription made while no change is being applied. A subscriber
     * that reads slowly has its changes buffered.
     */
    public Multi<CircuitChange> changes() {
        return Multi.createFrom().emitter(emitter -> {
            synchronized (changing) {
                circuits.values().forEach(e -> emitter.emit(new CircuitChange(e.compiled().name(), e.compiled().version(),
                        e.publishedAtMillis())));
                Cancellable subscription = applied.subscribe().with(emitter::emit, emitter::fail, emitter::complete);
                emitter.onTermination(subscription::cancel);
            }
        });
    }

    /** Records for another model (fingerprint or shape). */
    public long refusedCount() {
        return refused.get();
    }

    /** Records that are not a valid circuit for their key. */
    public long invalidCount() {
        return invalid.get();
    }

    /** Applies one record of the topic: a new version, a tombstone, or a refused or invalid record (counted). */
    public void apply(ConsumerRecord<String, String> r) {
        String where = r.topic() + "-" + r.partition() + "@" + r.offset();
        if (r.key() == null) {
            invalid.incrementAndGet();
            LOG.warnf("ignored a circuit record without a key at %s", where);
            return;
        }
        if (r.value() == null) {
            synchronized (changing) {
                if (circuits.remove(r.key()) != null) {
                    changeCount++;
                    LOG.infof("circuit %s deleted (%s)", r.key(), where);
                    applied.onNext(new CircuitChange(r.key(), null, r.timestamp()));
                }
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
        synchronized (changing) {
            circuits.put(r.key(), new Entry(compiled, r.timestamp()));
            changeCount++;
            LOG.infof("circuit %s version %d (%d neurons) from %s", r.key(), compiled.version(),
                    compiled.circuit().neurons().size(), where);
            applied.onNext(new CircuitChange(r.key(), compiled.version(), r.timestamp()));
        }
    }

    /** Ends every change stream; the channel stops with the application. */
    @Override
    public void close() {
        applied.onComplete();
    }
}
