package dev.cna.steering;

import dev.cna.core.circuit.CircuitJson;
import dev.cna.core.circuit.TestCircuits;
import dev.cna.devstack.DevKafka;
import dev.cna.devstack.PlatformTopics;
import dev.cna.devstack.ServiceProcess;
import io.restassured.path.json.JsonPath;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * steering-service as it is deployed (its packaged quarkus-app in a child JVM, the default model) against a real
 * broker, stopped and started again: the new process rebuilds its registry from the circuits channel alone, and is
 * ready only once it has applied everything the topic held when it started, also when the topic ends in transactions
 * (committed and aborted, as attribution-service writes them). A failsafe test: it needs the package.
 */
class RegistryRestartIT {
    private static final Duration READY = Duration.ofMinutes(3);
    private static final int VERSIONS = 150;
    /** Large circuits, so that reading the topic back takes a while next to the readiness polls. */
    private static final int NEURONS = 1500;

    @Test
    void aRestartRebuildsTheRegistryFromTheChannelBeforeItIsReady() throws Exception {
        try (DevKafka kafka = DevKafka.startTemporary();
             KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                     ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                     ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
            PlatformTopics.create(kafka.bootstrapServers());
            String bootstrap = "kafka.bootstrap.servers=" + kafka.bootstrapServers();

            ServiceProcess first = ServiceProcess.start("steering-service", bootstrap);
            JsonPath model;
            try {
                first.awaitReady(READY);
                model = given().get(first.url() + "/status").then().statusCode(200).extract().jsonPath().setRootPath("model");
                // A history: many versions of three circuits, one circuit deleted, one of another model, one not JSON.
                for (int v = 1; v <= VERSIONS; v++) {
                    for (String name : new String[] {"kept-0", "kept-1", "kept-2"}) {
                        publish(producer, name, circuit(model, model.getString("fingerprint"), name, v));
                    }
                }
                publish(producer, "gone", circuit(model, model.getString("fingerprint"), "gone", 1));
                publish(producer, "gone", null);
                publish(producer, "foreign", circuit(model, "f".repeat(64), "foreign", 1));
                publish(producer, "broken", "{\"schema\":\"cna.circuit/v1\",");
                await(() -> versions(first).equals(Map.of("kept-0", (long) VERSIONS, "kept-1", (long) VERSIONS,
                        "kept-2", (long) VERSIONS)) && registry(first).getLong("invalid") == 1, "the first process follows the topic");
            } finally {
                first.stop();
            }

            // While no instance runs, as attribution-service publishes (exactly-once: transactions, so the topic ends in
            // commit markers, which no consumer receives): a new version, a deletion and a new circuit committed, and a
            // circuit in a transaction that aborts.
            try (KafkaProducer<String, String> tx = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG, "registry-restart-it",
                    ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                    ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
                tx.initTransactions();
                tx.beginTransaction();
                publish(tx, "kept-0", circuit(model, model.getString("fingerprint"), "kept-0", VERSIONS + 1));
                publish(tx, "kept-1", null);
                tx.commitTransaction();
                tx.beginTransaction();
                publish(tx, "aborted", circuit(model, model.getString("fingerprint"), "aborted", 1));
                tx.abortTransaction();
                tx.beginTransaction();
                publish(tx, "new", circuit(model, model.getString("fingerprint"), "new", 1));
                tx.commitTransaction();
            }

            ServiceProcess second = ServiceProcess.start("steering-service", bootstrap);
            try {
                second.awaitReady(READY);
                // At its first ready answer (the last record before the end is a commit marker), the registry holds what the
                // whole topic says: nothing from memory, nothing aborted.
                assertEquals(Map.of("kept-0", VERSIONS + 1L, "kept-2", (long) VERSIONS, "new", 1L), versions(second));
                JsonPath registry = registry(second);
                assertTrue(registry.getBoolean("caughtUp"));
                assertEquals(1, registry.getLong("refused"), "the foreign circuit, read again");
                assertEquals(1, registry.getLong("invalid"), "the broken record, read again");
            } finally {
                second.stop();
            }
        }
    }

    /** A circuit of NEURONS neurons over every layer of the served model, shifted by version so versions differ. */
    private static String circuit(JsonPath model, String fingerprint, String name, long version) {
        int layers = model.getInt("layers");
        int intermediate = model.getInt("intermediateSize");
        double[][] neurons = new double[NEURONS][];
        for (int k = 0; k < NEURONS; k++) {
            neurons[k] = new double[] {k % layers, (k / layers * 7 + version) % intermediate, NEURONS - k};
        }
        return CircuitJson.write(TestCircuits.circuit(name, version, fingerprint, layers, intermediate, neurons));
    }

    private static void publish(KafkaProducer<String, String> producer, String key, String value) throws Exception {
        producer.send(new ProducerRecord<>(PlatformTopics.CIRCUITS, key, value)).get();
    }

    /** Name to version of every circuit the service serves. */
    private static Map<String, Long> versions(ServiceProcess service) {
        JsonPath circuits = given().get(service.url() + "/circuits").then().statusCode(200).extract().jsonPath();
        return circuits.getList("", Map.class).stream().collect(Collectors.toMap(c -> (String) c.get("name"),
                c -> ((Number) c.get("version")).longValue()));
    }

    private static JsonPath registry(ServiceProcess service) {
        return given().get(service.url() + "/status").then().statusCode(200).extract().jsonPath().setRootPath("registry");
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "not within a minute: " + what);
            Thread.sleep(100);
        }
    }
}
