package dev.cna.gateway;

import dev.cna.api.Topics;
import dev.cna.devstack.DevKafka;
import dev.cna.devstack.KafkaClients;
import dev.cna.devstack.PlatformTopics;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static dev.cna.gateway.Problems.assertProblem;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ingest while the broker goes away (cna.gateway.kafka-timeout-ms is 2 s here): every answer is a 202 or a 503, every
 * 202 names records that are in the topic where it says, a 503 comes within the bound, and ingest works again once
 * the broker is back.
 */
@QuarkusTest
@QuarkusTestResource(value = BrokerStopsTest.StoppableKafka.class, restrictToAnnotatedClass = true)
class BrokerStopsTest {
    private static final int CLIENTS = 4;
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    /** A broker with its own data dir and port, so that a restart brings back the same topics at the same address. */
    public static class StoppableKafka implements QuarkusTestResourceLifecycleManager {
        private Path data;
        private int port;
        private DevKafka kafka;

        @Override
        public Map<String, String> start() {
            try {
                data = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "broker-stops-");
                kafka = DevKafka.builder().dataDir(data).build();
                port = kafka.port();
                PlatformTopics.create(kafka.bootstrapServers());
            } catch (Exception e) {
                throw new IllegalStateException("could not start the broker", e);
            }
            return Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "cna.gateway.kafka-timeout-ms", Long.toString(TIMEOUT.toMillis()));
        }

        @Override
        public void inject(TestInjector injector) {
            injector.injectIntoFields(this, new TestInjector.MatchesType(StoppableKafka.class));
        }

        void stopBroker() {
            kafka.close();
        }

        void restartBroker() throws Exception {
            kafka = DevKafka.builder().dataDir(data).port(port).build();
        }

        @Override
        public void stop() {
            kafka.close();
        }
    }

    StoppableKafka broker;

    /** One ingest's answer and how long it took. */
    private record Answer(String feature, int status, String body, long millis) {}

    @Test
    void aBrokerStoppedDuringIngestGives503sAndNoFalse202() throws Exception {
        assertEquals(202, ingest("before").status());

        // Clients ingest lists of events until each gets a 503; the broker stops once some have been accepted.
        List<Answer> answers = new CopyOnWriteArrayList<>();
        List<CompletableFuture<Void>> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            String feature = "client-" + c;
            clients.add(CompletableFuture.runAsync(() -> {
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
                Answer a;
                do {
                    a = ingest(feature);
                    answers.add(a);
                } while (a.status() == 202 && System.nanoTime() < deadline);
            }));
        }
        Platform.await(() -> answers.stream().filter(a -> a.status() == 202).count() >= CLIENTS, Duration.ofSeconds(30),
                "accepted ingests before the broker stops");
        broker.stopBroker();
        CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);

        Response down = post("down");
        assertProblem(down, 503, "service-unavailable", "/api/features/down/pairs",
                "Kafka did not acknowledge the events within 2000 ms");
        down.then().header("Retry-After", "2");

        broker.restartBroker();
        // The gateway's producer finds the broker again (the first tries may still meet it reconnecting).
        Platform.await(() -> {
            Answer a = ingest("after");
            answers.add(a);
            return a.status() == 202;
        }, Duration.ofSeconds(60), "a 202 once the broker is back");

        List<ConsumerRecord<String, String>> topic = KafkaClients.readAll(KafkaClients.bootstrap(), Topics.PROMPT_PAIRS);
        for (Answer a : answers) {
            assertTrue(a.status() == 202 || a.status() == 503, "202 or 503, got " + a);
            if (a.status() == 503) {
                assertTrue(a.millis() < TIMEOUT.plusSeconds(5).toMillis(), "a 503 within the bound: " + a);
            } else {
                assertWritten(topic, a);
            }
        }
        assertEquals(CLIENTS, answers.stream().filter(a -> a.feature().startsWith("client-") && a.status() == 503).count(),
                "each client ends on a 503");
    }

    /**
     * A 202's first event is at the partition and offset it names, and its other events follow in order (other
     * requests' events may come between them).
     */
    private static void assertWritten(List<ConsumerRecord<String, String>> topic, Answer accepted) throws Exception {
        assertEquals(202, accepted.status(), accepted.toString());
        JsonPath answer = JsonPath.from(accepted.body());
        List<String> ids = answer.getList("ids");
        int next = 0;
        for (ConsumerRecord<String, String> r : topic) {
            if (r.partition() != answer.getInt("partition") || r.offset() < answer.getLong("offset") || next == ids.size()) {
                continue;
            }
            String id = Platform.JSON.readTree(r.value()).get("id").asText();
            if (r.offset() == answer.getLong("offset")) {
                assertEquals(ids.get(0), id, "the first event at the offset of " + accepted);
            }
            if (id.equals(ids.get(next))) {
                assertEquals(accepted.feature(), r.key());
                next++;
            }
        }
        assertEquals(ids.size(), next, "events of " + accepted + " in the topic");
    }

    private static Answer ingest(String feature) {
        long t0 = System.nanoTime();
        Response r = post(feature);
        return new Answer(feature, r.statusCode(), r.asString(), (System.nanoTime() - t0) / 1_000_000);
    }

    /** Three events of one feature. */
    private static Response post(String feature) {
        String event = "{\"positive\":[\"p of " + feature + "\"],\"negative\":[\"n\"]}";
        return given().auth().oauth2("test-admin").contentType(ContentType.JSON)
                .body("[" + event + "," + event + "," + event + "]").post("/api/features/{name}/pairs", feature);
    }
}
