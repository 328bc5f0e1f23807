package dev.cna.attribution;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.core.attribution.ContrastiveAccumulator;
import dev.cna.core.attribution.SelectionOptions;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitJson;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.runtime.torch.WeightStorage;
import dev.cna.devstack.DevKafkaTestResource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The topology without a broker (Kafka Streams' TopologyTestDriver) on a synthetic model (3 layers x 96 neurons):
 * circuits equal cna-core's, flush boundaries change nothing, duplicates count once, resets give tombstones and
 * versions go on, bad records go to the DLQ, the sums survive their cut into per-layer records. A {@code @QuarkusTest}
 * only to run in the Quarkus class loader (the native tokenizer library loads in one class loader per JVM).
 */
@QuarkusTest
@QuarkusTestResource(DevKafkaTestResource.class)
class AttributionTopologyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SelectionOptions TOP5 = new SelectionOptions(5, Set.of(0), true);
    private static ModelHolder model;

    @BeforeAll
    static void loadModel() throws Exception {
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "synthetic-");
        model = new ModelHolder();
        model.model = SyntheticModels.Spec.llama().write(dir).gguf().toString();
        model.weights = WeightStorage.F32;
        model.batchSize = 16;
        model.load();
    }

    @AfterAll
    static void closeModel() {
        model.close();
    }

    @Test
    void accumulatorsSurviveTheirCutIntoLayers() {
        ContrastiveAccumulator acc = new ContrastiveAccumulator(4, 7, Set.of(1, 3));
        Random r = new Random(7);
        for (int k = 0; k < 5; k++) {
            float[][] a = new float[4][];
            for (int layer : Set.of(1, 3)) {
                a[layer] = new float[7];
                for (int i = 0; i < 7; i++) {
                    a[layer][i] = (float) (r.nextGaussian() * 100);
                }
            }
            if (k % 2 == 0) {
                acc.addPositive(a);
            } else {
                acc.addNegative(a);
            }
        }
        Map<Integer, byte[]> slices = AccumulatorSlices.split(acc);
        assertEquals(Set.of(1, 3), slices.keySet());
        slices.values().forEach(s -> assertEquals(2 * 7 * 16, s.length, "both sides' 128-bit sums of a layer"));
        ContrastiveAccumulator back = AccumulatorSlices.join(4, 7, slices, acc.positiveCount(), acc.negativeCount());
        assertArrayEquals(acc.serialize(), back.serialize());
    }

    @Test
    void circuitsEqualCnaCoresAndFlushBoundariesChangeNothing() throws Exception {
        List<String> events = new ArrayList<>();
        for (int e = 0; e < 6; e++) {
            events.add(pairs("a", "a-" + e, List.of("the fox " + e, "the tea " + e), List.of("a fox " + e)));
            events.add(pairs("b", "b-" + e, List.of("in the " + e), List.of("the " + e + " in", "a " + e)));
        }
        Map<String, Circuit> perEvent = run(events, 1);
        Map<String, Circuit> batched = run(events, 64);
        assertEquals(Set.of("a", "b"), batched.keySet());
        for (String f : List.of("a", "b")) {
            List<String> pos = new ArrayList<>();
            List<String> neg = new ArrayList<>();
            for (String e : events) {
                var n = JSON.readTree(e);
                if (n.get("feature").asText().equals(f)) {
                    n.get("positive").forEach(p -> pos.add(p.asText()));
                    n.get("negative").forEach(p -> neg.add(p.asText()));
                }
            }
            TestModels.assertSameCircuit(TestModels.direct(model.model(), f, pos, neg, TOP5), batched.get(f));
            TestModels.assertSameCircuit(batched.get(f), perEvent.get(f));
        }
    }

    @Test
    void duplicatesCountOnceResetsGiveTombstonesAndVersionsGoOn() throws Exception {
        try (Driver d = new Driver(64)) {
            String e1 = pairs("r", "r-1", List.of("the fox"), List.of("a tea"));
            d.send("r", e1);
            d.send("r", e1);
            d.flush();
            Circuit v1 = circuit(d.circuits.readValuesToList().get(0));
            assertEquals(1, v1.stats().positiveCount(), "the duplicate did not count");
            assertEquals(1.0, d.registry.get("cna.attribution.duplicates").counter().count());
            d.send("r", "{\"schema\":\"cna.prompt-pairs/v1\",\"id\":\"r-2\",\"type\":\"reset\",\"feature\":\"r\"}");
            d.flush();
            TestRecord<String, byte[]> tombstone = d.circuits.readRecord();
            assertEquals("r", tombstone.key());
            assertNull(tombstone.value());
            d.send("r", pairs("r", "r-3", List.of("in the fox"), List.of("the tea")));
            d.flush();
            Circuit v2 = circuit(d.circuits.readValuesToList().get(0));
            assertEquals(2, v2.version(), "versions go on after a reset");
            assertEquals(1, v2.stats().positiveCount(), "the reset cleared the sums");
            FeatureMeta meta = FeatureStore.readMeta(d.meta().get("r"));
            assertEquals(3, meta.events());
            assertEquals(2, meta.version());
            assertTrue(d.driver.<Long, byte[]>getKeyValueStore(AttributionProcessor.PENDING).approximateNumEntries() == 0,
                    "a flush empties the pending store");
        }
    }

    @Test
    void aBadRecordGoesToTheDlqWithItsHeadersAndTheNextIsApplied() throws Exception {
        try (Driver d = new Driver(64)) {
            d.send("x", "{not json");
            d.send("x", pairs("x", "x-1", List.of("the fox"), List.of("a tea")));
            d.flush();
            TestRecord<String, byte[]> dead = d.dlq.readRecord();
            assertEquals("x", dead.key());
            assertEquals("{not json", new String(dead.value(), StandardCharsets.UTF_8));
            assertEquals("invalid-json", new String(dead.headers().lastHeader(DeadLetters.H_ERROR).value(), StandardCharsets.UTF_8));
            assertEquals("0", new String(dead.headers().lastHeader(DeadLetters.H_OFFSET).value(), StandardCharsets.UTF_8));
            assertTrue(d.dlq.isEmpty());
            assertEquals(1, circuit(d.circuits.readValuesToList().get(0)).version());
        }
    }

    /**
     * The events through a fresh topology flushing every {@code flushEvents}: per feature, the circuit of its final
     * state (read back from the stores; the last one published may be older, as an unchanged selection is not
     * published again).
     */
    private static Map<String, Circuit> run(List<String> events, int flushEvents) throws Exception {
        try (Driver d = new Driver(flushEvents)) {
            for (String e : events) {
                d.send(JSON.readTree(e).get("feature").asText(), e);
            }
            d.flush();
            if (flushEvents == 64) {
                assertEquals(2, d.circuits.readValuesToList().size(), "one flush: one version per feature");
            }
            Map<String, Circuit> out = new java.util.HashMap<>();
            FeatureStore store = new FeatureStore(d.meta(), d.driver.getKeyValueStore(FeatureStore.SUMS),
                    model.model().config().layers(), model.model().config().intermediateSize());
            for (String f : List.of("a", "b")) {
                FeatureMeta m = store.meta(f);
                out.put(f, model.attribution().circuit(f, 1, store.sums(m), m.options(), null));
            }
            return out;
        }
    }

    private static Circuit circuit(byte[] json) {
        return CircuitJson.read(new String(json, StandardCharsets.UTF_8));
    }

    private static String pairs(String feature, String id, List<String> positive, List<String> negative) {
        ObjectNode e = JSON.createObjectNode();
        e.put("schema", "cna.prompt-pairs/v1").put("id", id).put("feature", feature);
        positive.forEach(e.putArray("positive")::add);
        negative.forEach(e.putArray("negative")::add);
        e.putObject("options").put("topK", 5).putArray("excludeLayers").add(0);
        return e.toString();
    }

    /** One topology in a TopologyTestDriver, its input and two output topics. */
    private static final class Driver implements AutoCloseable {
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        final TopologyTestDriver driver;
        final TestInputTopic<String, String> in;
        final TestOutputTopic<String, byte[]> circuits;
        final TestOutputTopic<String, byte[]> dlq;

        Driver(int flushEvents) throws Exception {
            Properties p = new Properties();
            p.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
            p.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory(Path.of("target"), "driver-").toString());
            AttributionSettings settings = new AttributionSettings(flushEvents, Duration.ofMillis(200), Duration.ofDays(7), Optional.empty());
            driver = new TopologyTestDriver(AttributionTopology.build(model, settings, new DlqMetrics(registry)), p);
            in = driver.createInputTopic(Topics.PAIRS, new StringSerializer(), new StringSerializer());
            var keys = new org.apache.kafka.common.serialization.StringDeserializer();
            circuits = driver.createOutputTopic(Topics.CIRCUITS, keys, new ByteArrayDeserializer());
            dlq = driver.createOutputTopic(Topics.DLQ, keys, new ByteArrayDeserializer());
        }

        void send(String key, String value) {
            in.pipeInput(key, value);
        }

        /** The flush punctuation. */
        void flush() {
            driver.advanceWallClockTime(Duration.ofMillis(200));
        }

        KeyValueStore<String, byte[]> meta() {
            return driver.getKeyValueStore(FeatureStore.META);
        }

        @Override
        public void close() {
            driver.close();
        }
    }
}
