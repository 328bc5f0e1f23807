package dev.cna.attribution;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.eclipse.microprofile.health.HealthCheckResponse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One service instance run by hand, as the quarkus-kafka-streams extension runs it with the service's
 * application.properties (the same topology, exactly_once_v2, the restore listener), over a given broker and state
 * directory, on a shared loaded model.
 */
final class StreamsInstance implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(120);

    final KafkaStreams streams;
    final RestoreProgress restore = new RestoreProgress();
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final DlqMetrics metrics = new DlqMetrics(registry);
    private final ModelHolder model;

    StreamsInstance(String bootstrap, String applicationId, Path stateDir, ModelHolder model, Optional<String> faultPrompt) throws Exception {
        this.model = model;
        Files.createDirectories(stateDir);
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        // a closed instance does not leave the group: the next one gets its partitions after the session timeout
        p.put(StreamsConfig.consumerPrefix("session.timeout.ms"), 6000);
        p.put(StreamsConfig.consumerPrefix("heartbeat.interval.ms"), 1000);
        Topics.ensure(bootstrap, 1);
        model.load();
        AttributionSettings settings = new AttributionSettings(64, Duration.ofMillis(200), Duration.ofDays(7), faultPrompt);
        streams = new KafkaStreams(AttributionTopology.build(model, settings, metrics), p);
        streams.setGlobalStateRestoreListener(restore);
        streams.setStateListener(restore);
    }

    StreamsInstance start() {
        streams.start();
        return this;
    }

    boolean ready() {
        return AttributionHealth.ready(streams, model, restore);
    }

    /** This instance's features, from its local store (empty while it is not queryable). */
    Map<String, FeatureView> views() {
        Map<String, FeatureView> out = new HashMap<>();
        try {
            ReadOnlyKeyValueStore<String, byte[]> store = streams.store(
                    StoreQueryParameters.fromNameAndType(FeatureStore.META, QueryableStoreTypes.keyValueStore()));
            try (KeyValueIterator<String, byte[]> it = store.all()) {
                it.forEachRemaining(kv -> out.put(kv.key, FeatureView.of(FeatureStore.readMeta(kv.value), "test")));
            }
        } catch (InvalidStateStoreException notNow) {
            // rebalancing or restoring
        }
        return out;
    }

    /** The service's own health checks over this instance: ready and live. */
    void assertReadyAndLive() {
        AttributionHealth.Ready ready = new AttributionHealth.Ready();
        ready.streams = streams;
        ready.model = model;
        ready.restore = restore;
        AttributionHealth.Live live = new AttributionHealth.Live();
        live.streams = streams;
        assertEquals(HealthCheckResponse.Status.UP, ready.call().getStatus(), "ready");
        assertEquals(HealthCheckResponse.Status.UP, live.call().getStatus(), "live");
    }

    /** Waits for the condition while the instance runs; fails if it stops or time runs out. */
    void awaitTrue(java.util.function.BooleanSupplier condition, String message) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            KafkaStreams.State s = streams.state();
            assertTrue(s != KafkaStreams.State.ERROR && s != KafkaStreams.State.NOT_RUNNING && s != KafkaStreams.State.PENDING_ERROR,
                    "the instance stopped: " + s);
            assertTrue(System.nanoTime() < deadline, message);
            Thread.sleep(50);
        }
    }

    @Override
    public void close() {
        streams.close(Duration.ofSeconds(30));
    }
}
