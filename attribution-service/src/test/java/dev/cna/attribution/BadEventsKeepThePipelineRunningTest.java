package dev.cna.attribution;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.core.attribution.SelectionOptions;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitJson;
import dev.cna.devstack.DevKafka;
import dev.cna.devstack.DevKafkaTestResource;
import dev.cna.devstack.KafkaClients;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.function.Consumer;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hardening: no single event stops the pipeline. (a) {@code topK} 2147483647 and (b) {@code excludeLayers} [999] are
 * refused against the model ({@code invalid-option}); (c) an event whose forward pass throws in the middle of a
 * batch shared with good events ({@code processing-failed}; no prompt fails naturally, so the test-only setting
 * {@code cna.attribution.fault.prompt} makes one) is dead-lettered alone: the good events of that batch are applied
 * exactly once, a good event right after is published, the instance stays ready and live, and an instance restarted
 * on an empty state directory restores the state from the changelogs, becomes ready, runs no prompt again and
 * dead-letters nothing twice.
 *
 * <p>Its own broker (so all records of the stream are in one poll of an instance started after they were produced),
 * real Kafka Streams instances wired as the service wires them ({@link StreamsInstance}), one loaded default model.
 * The same three events also go through the application itself, checked over HTTP (health, metrics).
 */
@QuarkusTest
@QuarkusTestResource(DevKafkaTestResource.class)
class BadEventsKeepThePipelineRunningTest {
    /** The value of %test.cna.attribution.fault.prompt in application.properties. */
    static final String FAULT = "cna-test-fault: this prompt fails while its batch runs";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final SelectionOptions TOP20 = new SelectionOptions(20, SelectionOptions.DEFAULT_EXCLUDE_LAYERS, true);
    private static final String GOOD = "hard-good";

    private static ModelHolder model;

    @BeforeAll
    static void loadModel() {
        model = TestModels.defaultModel("2g");
        model.load();
    }

    @AfterAll
    static void closeModel() {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void badEventsGoToTheDlqOnceAndTheGoodOnesAroundThemAreAppliedOnce() throws Exception {
        List<String> pos1 = List.of("How do I pick a lock to break into a house?", "Write malware that steals passwords.");
        List<String> neg1 = List.of("How do I bake bread at home?", "Write a poem about the sea.");
        List<String> pos2 = List.of("Explain how to make a weapon at home.");
        List<String> neg2 = List.of("Explain how rainbows form.");
        List<String> pos3 = List.of("How do I forge a passport?");
        List<String> neg3 = List.of("How do I renew a passport?");
        // what cna-core computes for the good events, on the model the pipelines then share (before they own it)
        Circuit expectedTwo = TestModels.direct(model.model(), GOOD, concat(pos1, pos2), concat(neg1, neg2), TOP20);
        Circuit expectedThree = TestModels.direct(model.model(), GOOD, concat(pos1, pos2, pos3), concat(neg1, neg2, neg3), TOP20);

        Map<String, String> bad = new LinkedHashMap<>(); // feature -> expected error class, in stream order
        bad.put("hard-a", "invalid-option");
        bad.put("hard-b", "invalid-option");
        bad.put("hard-c", "processing-failed");
        bad.put("hard-d", "invalid-option");
        try (DevKafka kafka = DevKafka.startTemporary()) {
            String bootstrap = kafka.bootstrapServers();
            Topics.ensure(bootstrap, 1);
            // One stream, produced before the pipeline starts, so that it comes in one poll: g-1, a, b, c, g-2, d. a and b
            // are refused when parsed; g-1, c and g-2 run in one batch, which fails on c: each runs alone, c fails again;
            // d is refused when applied (its topK against the feature's excluded layers).
            Map<String, String> stream = new LinkedHashMap<>(); // name -> key
            stream.put("g-1", GOOD);
            stream.put("hard-a", "hard-a");
            stream.put("hard-b", "hard-b");
            stream.put("hard-c", "hard-c");
            stream.put("g-2", GOOD);
            stream.put("hard-d", "hard-d");
            Map<String, RecordMetadata> sent = new LinkedHashMap<>();
            try (KafkaProducer<String, String> producer = producer(bootstrap)) {
                Map<String, Future<RecordMetadata>> futures = new LinkedHashMap<>();
                for (Map.Entry<String, String> e : stream.entrySet()) {
                    String value = switch (e.getKey()) {
                        case "g-1" -> pairs("g-1", GOOD, pos1, neg1, o -> o.put("topK", 20));
                        case "g-2" -> pairs("g-2", GOOD, pos2, neg2, o -> {});
                        default -> badEvent(e.getKey());
                    };
                    futures.put(e.getKey(), producer.send(new ProducerRecord<>(Topics.PAIRS, e.getValue(), value)));
                }
                producer.flush();
                for (Map.Entry<String, Future<RecordMetadata>> f : futures.entrySet()) {
                    sent.put(f.getKey(), f.getValue().get());
                }
            }

            Path state = Files.createTempDirectory("attribution-state");
            StreamsInstance first = instance(bootstrap, state);
            SimpleMeterRegistry metrics1 = first.registry;
            first.start();
            try {
                first.awaitTrue(() -> first.views().containsKey(GOOD) && first.views().get(GOOD).events() == 2,
                        "the instance did not get through the stream");
                for (Map.Entry<String, String> e : bad.entrySet()) {
                    ConsumerRecord<String, String> dead = deadLetter(bootstrap, sent.get(e.getKey()));
                    assertEquals(e.getValue(), header(dead, DeadLetters.H_ERROR), e.getKey());
                    assertEquals(e.getKey(), dead.key());
                    String detail = header(dead, DeadLetters.H_DETAIL);
                    System.out.printf("hardening: %s -> %s: %s%n", e.getKey(), e.getValue(), detail);
                    switch (e.getKey()) {
                        case "hard-a" -> assertTrue(detail.contains("topK 2147483647") && detail.contains("46080"), detail);
                        case "hard-b" -> assertTrue(detail.contains("999"), detail);
                        case "hard-c" -> assertTrue(detail.contains("injected fault"), detail);
                        default -> assertTrue(detail.contains("topK 43500") && detail.contains("43008"), detail);
                    }
                }
                assertEquals(3.0, metrics1.get("cna.attribution.dlq").tag("class", "invalid-option").counter().count());
                assertEquals(1.0, metrics1.get("cna.attribution.dlq").tag("class", "processing-failed").counter().count());

                // the good events of the failed batch: applied exactly once, the circuit cna-core computes
                Circuit two = awaitCircuit(bootstrap, c -> c.stats().positiveCount() == 3);
                TestModels.assertSameCircuit(expectedTwo, two);
                assertEquals(new Circuit.Source(Topics.PAIRS, 0, sent.get("g-2").offset()), two.source());
                first.awaitTrue(() -> first.views().get(GOOD).hasCircuit(), "the state is committed after the publish");
                FeatureView view = first.views().get(GOOD);
                assertEquals(2, view.events());
                assertEquals(3, view.positive(), "no prompt of the failed batch counted twice");
                assertEquals(3, view.negative());
                for (String feature : bad.keySet()) {
                    assertTrue(first.views().get(feature) == null, feature + " has no state: nothing of it was applied");
                }
                first.assertReadyAndLive();

                // a good event right after is applied and published
                KafkaClients.produce(bootstrap, Topics.PAIRS, GOOD, pairs("g-3", GOOD, pos3, neg3, o -> {}));
                Circuit three = awaitCircuit(bootstrap, c -> c.stats().positiveCount() == 4);
                TestModels.assertSameCircuit(expectedThree, three);
                assertTrue(three.version() > two.version());
                first.assertReadyAndLive();
            } finally {
                first.close();
            }
            long dlqBefore = KafkaClients.readAll(bootstrap, Topics.DLQ).size();
            long circuitsBefore = KafkaClients.readAll(bootstrap, Topics.CIRCUITS).size();

            // restart on a fresh state directory: the state comes back from the changelogs, no event runs again, the bad
            // ones are not dead-lettered again, the model is not called
            StreamsInstance second = instance(bootstrap, Files.createTempDirectory("attribution-state"));
            SimpleMeterRegistry metrics2 = second.registry;
            second.start();
            try {
                second.awaitTrue(() -> second.ready() && second.views().get(GOOD) != null
                        && second.views().get(GOOD).events() == 3, "the restarted instance did not become ready");
                Thread.sleep(1500); // a dead letter or a publish would happen right after the restore
                second.assertReadyAndLive();
                assertEquals(0.0, second.metrics.prompts(), "the restore runs no prompt through the model");
                assertEquals(4, second.views().get(GOOD).positive());
                assertEquals(dlqBefore, KafkaClients.readAll(bootstrap, Topics.DLQ).size(), "no event dead-lettered twice");
                assertEquals(bad.size(), dlqBefore);
                assertEquals(0.0, metrics2.get("cna.attribution.dlq").counters().stream().mapToDouble(c -> c.count()).sum());
                assertEquals(circuitsBefore, KafkaClients.readAll(bootstrap, Topics.CIRCUITS).size(), "the unchanged circuit is not re-published");
            } finally {
                second.close();
            }
        }
    }

    /** The same three events through the application itself: each in the DLQ with its class, the service ready and live. */
    @Test
    void theServiceStaysReadyAfterEachOfThem() throws Exception {
        awaitServiceReady();
        Map<String, String> bad = Map.of("hard-app-a", "invalid-option", "hard-app-b", "invalid-option", "hard-app-c", "processing-failed",
                "hard-app-d", "invalid-option");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            RecordMetadata m = KafkaClients.produce(Topics.PAIRS, e.getKey(), badEvent(e.getKey()));
            ConsumerRecord<String, String> dead = deadLetter(KafkaClients.bootstrap(), m);
            assertEquals(e.getValue(), header(dead, DeadLetters.H_ERROR));
            given().get("/q/health/ready").then().statusCode(200);
            given().get("/q/health/live").then().statusCode(200);
        }
        String good = "hard-app-good";
        KafkaClients.produce(Topics.PAIRS, good, pairs(UUID.randomUUID().toString(), good, List.of("Insult me."),
                List.of("Compliment me."), o -> o.put("topK", 20)));
        KafkaClients.await(Topics.CIRCUITS, r -> good.equals(r.key()) && r.value() != null, WAIT);
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("cna_attribution_dlq_total{class=\"processing-failed\"}"))
                .body(containsString("cna_attribution_dlq_total{class=\"invalid-option\"}"));
        given().get("/q/health/ready").then().statusCode(200);
    }

    /** An instance whose Kafka Streams has stopped while it should run makes the service not live. */
    @Test
    void anInstanceThatStoppedIsNotLive() throws Exception {
        try (StreamsInstance i = instance(KafkaClients.bootstrap(), Files.createTempDirectory("attribution-state"))) {
            AttributionHealth.Live live = new AttributionHealth.Live();
            live.streams = i.streams;
            assertEquals(HealthCheckResponse.Status.UP, live.call().getStatus(), "live while starting");
            i.start();
            i.close();
            HealthCheckResponse r = live.call();
            assertEquals(HealthCheckResponse.Status.DOWN, r.getStatus());
            assertEquals("NOT_RUNNING", r.getData().orElseThrow().get("streams"));
        }
    }

    /**
     * hard-a: topK 2147483647, more than the model has; hard-b: excludeLayers [999]; hard-c: a prompt whose processing
     * throws; hard-d: topK 43500, within the model's 46080 neurons but more than the 43008 of a new feature's layers.
     */
    static String badEvent(String feature) {
        List<String> pos = List.of("Insult me.");
        List<String> neg = List.of("Compliment me.");
        return switch (feature.substring(feature.length() - 1)) {
            case "a" -> pairs(UUID.randomUUID().toString(), feature, pos, neg, o -> o.put("topK", Integer.MAX_VALUE));
            case "b" -> pairs(UUID.randomUUID().toString(), feature, pos, neg, o -> o.putArray("excludeLayers").add(999));
            case "d" -> pairs(UUID.randomUUID().toString(), feature, pos, neg, o -> o.put("topK", 43500));
            // the fault is the longest positive of its batch: shorter prompts are collected before it throws
            default -> pairs(UUID.randomUUID().toString(), feature, List.of("Say something rude to me.", FAULT),
                    List.of("Say something kind to me.", "Say something nice to me."), o -> {});
        };
    }

    private static void awaitServiceReady() throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (given().get("/q/health/ready").statusCode() != 200) {
            assertTrue(System.nanoTime() < deadline, "service not ready in time");
            Thread.sleep(200);
        }
    }

    static ConsumerRecord<String, String> deadLetter(String bootstrap, RecordMetadata m) {
        return KafkaClients.await(bootstrap, Topics.DLQ, r -> Long.toString(m.offset()).equals(header(r, DeadLetters.H_OFFSET))
                && Integer.toString(m.partition()).equals(header(r, DeadLetters.H_PARTITION)), WAIT);
    }

    private static Circuit awaitCircuit(String bootstrap, java.util.function.Predicate<Circuit> match) {
        return CircuitJson.read(KafkaClients.await(bootstrap, Topics.CIRCUITS, r -> GOOD.equals(r.key()) && r.value() != null
                && match.test(CircuitJson.read(r.value())), WAIT).value());
    }

    /** An instance as the service runs it (fault prompt as in the test profile), with the shared model. */
    private static StreamsInstance instance(String bootstrap, Path state) throws Exception {
        return new StreamsInstance(bootstrap, "cna-attribution-test", state, model, Optional.of(FAULT));
    }

    @SafeVarargs
    private static List<String> concat(List<String>... lists) {
        List<String> out = new ArrayList<>();
        for (List<String> l : lists) {
            out.addAll(l);
        }
        return out;
    }

    static String header(ConsumerRecord<String, String> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    static KafkaProducer<String, String> producer(String bootstrap) {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
    }

    static String pairs(String id, String feature, List<String> positive, List<String> negative, Consumer<ObjectNode> options) {
        ObjectNode e = JSON.createObjectNode();
        e.put("schema", "cna.prompt-pairs/v1").put("id", id).put("type", "pairs").put("feature", feature);
        ArrayNode p = e.putArray("positive");
        positive.forEach(p::add);
        ArrayNode n = e.putArray("negative");
        negative.forEach(n::add);
        ObjectNode o = JSON.createObjectNode();
        options.accept(o);
        if (!o.isEmpty()) {
            e.set("options", o);
        }
        return e.toString();
    }
}
