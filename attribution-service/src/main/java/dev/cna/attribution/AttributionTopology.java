package dev.cna.attribution;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The service's Kafka Streams topology (processor API): cna.prompt-pairs (key = feature) -> {@link AttributionProcessor}
 * with its four persistent stores -> cna.circuits (circuit versions and tombstones) and cna.prompt-pairs.dlq. The
 * quarkus-kafka-streams extension runs it (application.properties: application id, exactly_once_v2, state dir);
 * {@link #build} is plain, for tests that run instances by hand.
 */
@ApplicationScoped
public class AttributionTopology {
    static final String SOURCE = "prompt-pairs";
    static final String PROCESSOR = "attribution";
    static final String CIRCUITS_SINK = "circuits";
    static final String DLQ_SINK = "dlq";
    /**
     * The sums' changelog: compacted often (each flush rewrites a changed feature's layers), so what a restore reads
     * stays near one record per feature and layer.
     */
    static final Map<String, String> SUMS_CHANGELOG = Map.of("segment.bytes", Integer.toString(64 << 20),
            "segment.ms", Long.toString(Duration.ofMinutes(10).toMillis()), "min.cleanable.dirty.ratio", "0.1");

    @Inject
    ModelHolder model;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @ConfigProperty(name = "cna.attribution.create-topics", defaultValue = "true")
    boolean createTopics;
    @ConfigProperty(name = "cna.attribution.partitions", defaultValue = "1")
    int partitions;
    @ConfigProperty(name = "cna.attribution.flush-events", defaultValue = "32")
    int flushEvents;
    @ConfigProperty(name = "cna.attribution.flush-interval", defaultValue = "200ms")
    Duration flushInterval;
    @ConfigProperty(name = "cna.attribution.dedup-retention", defaultValue = "7d")
    Duration dedupRetention;
    /** Test-only fault injection: a prompt equal to this fails while its batch runs (unset in production). */
    @ConfigProperty(name = "cna.attribution.fault.prompt")
    Optional<String> faultPrompt;
    @Inject
    DlqMetrics metrics;

    /** Loads the model first (the processor checks events against it), creates the topics when allowed. */
    @Produces
    Topology topology() {
        model.load();
        if (createTopics) {
            Topics.ensure(bootstrap, partitions);
        }
        return build(model, new AttributionSettings(flushEvents, flushInterval, dedupRetention, faultPrompt), metrics);
    }

    /** The topology over the given (loaded or not) model. */
    static Topology build(ModelHolder model, AttributionSettings settings, DlqMetrics metrics) {
        Topology t = new Topology();
        t.addSource(SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), Topics.PAIRS);
        t.addProcessor(PROCESSOR, () -> new AttributionProcessor(model, settings, metrics), SOURCE);
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(FeatureStore.META), Serdes.String(), Serdes.ByteArray()),
                PROCESSOR);
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(FeatureStore.SUMS), Serdes.String(), Serdes.ByteArray())
                .withLoggingEnabled(SUMS_CHANGELOG), PROCESSOR);
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(AttributionProcessor.PENDING), Serdes.Long(),
                Serdes.ByteArray()), PROCESSOR);
        // ids: windows of 1 ms at the record's timestamp, kept for the retention
        t.addStateStore(Stores.windowStoreBuilder(Stores.persistentWindowStore(AttributionProcessor.IDS, settings.dedupRetention(),
                Duration.ofMillis(1), false), Serdes.String(), Serdes.Long()), PROCESSOR);
        t.addSink(CIRCUITS_SINK, Topics.CIRCUITS, new ByteArraySerializer(), new ByteArraySerializer(), PROCESSOR);
        t.addSink(DLQ_SINK, Topics.DLQ, new ByteArraySerializer(), new ByteArraySerializer(), PROCESSOR);
        return t;
    }
}
