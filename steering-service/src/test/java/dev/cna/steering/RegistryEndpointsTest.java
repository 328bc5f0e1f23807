package dev.cna.steering;

import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitJson;
import dev.cna.core.circuit.TestCircuits;
import dev.cna.devstack.DevKafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.function.BooleanSupplier;

import static dev.cna.steering.TestPlatform.awaitCircuit;
import static dev.cna.steering.TestPlatform.circuit;
import static dev.cna.steering.TestPlatform.neuronsOfLayer;
import static dev.cna.steering.TestPlatform.publish;
import static dev.cna.steering.TestPlatform.status;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry as fed from the real broker: versions, tombstones, foreign and invalid records, the change stream, metrics. */
@QuarkusTest
@QuarkusTestResource(DevKafkaTestResource.class)
class RegistryEndpointsTest {

    @BeforeEach
    void ready() {
        TestPlatform.awaitReady();
    }

    @Test
    void newVersionsReplaceOldOnesAndATombstoneDeletes() {
        String name = "reg-" + System.nanoTime();
        Circuit v1 = circuit(name, 1, neuronsOfLayer(3, 0, 10));
        publish(v1);
        awaitCircuit(name, 200, 1);
        given().get("/circuits/" + name).then().statusCode(200).body("neurons.size()", equalTo(10))
                .body("model.fingerprint", equalTo(status().getString("model.fingerprint")));
        given().get("/circuits").then().statusCode(200).body("name", hasItem(name));
        given().get("/circuits").then().body("find { it.name == '" + name + "' }.neuronsPerLayer[3]", equalTo(10));

        publish(circuit(name, 2, neuronsOfLayer(4, 0, 7)));
        awaitCircuit(name, 200, 2);
        given().get("/circuits/" + name).then().body("neurons.size()", equalTo(7));

        publish(name, null);
        awaitCircuit(name, 404, 0);
    }

    @Test
    void circuitsOfAnotherModelAndInvalidRecordsAreRefusedAndCounted() {
        String name = "foreign-" + System.nanoTime();
        long refused = status().getLong("registry.refused");
        long invalid = status().getLong("registry.invalid");
        var s = status();
        publish(TestCircuits.circuit(name, 1, "f".repeat(64), s.getInt("model.layers"), s.getInt("model.intermediateSize"),
                new double[] {1, 2, 3.0}));
        publish(name + "-bad", "{\"schema\":\"cna.circuit/v1\",\"name\":");
        Circuit misnamed = circuit(name + "-other", 1, neuronsOfLayer(1, 0, 3));
        publish(name + "-key", CircuitJson.write(misnamed));
        await(() -> status().getLong("registry.refused") == refused + 1 && status().getLong("registry.invalid") == invalid + 2);
        given().get("/circuits/" + name).then().statusCode(404);
        given().get("/circuits/" + name + "-key").then().statusCode(404);
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("cna_steering_circuits_refused_total"))
                .body(containsString("cna_steering_circuits_invalid_total"));
        // The registry keeps going after the bad records.
        String good = name + "-good";
        publish(circuit(good, 1, neuronsOfLayer(2, 0, 5)));
        awaitCircuit(good, 200, 1);
    }

    @Test
    void theEventStreamSendsTheCurrentCircuitsThenEachChange() {
        String name = "events-" + System.nanoTime();
        publish(circuit(name, 1, neuronsOfLayer(6, 0, 4)));
        awaitCircuit(name, 200, 1);
        try (SseStream events = SseStream.get(TestPlatform.url("/circuits/events"))) {
            assertEquals(1, nextAbout(events, name).data().get("version").asLong());
            publish(circuit(name, 2, neuronsOfLayer(6, 10, 4)));
            assertEquals(2, nextAbout(events, name).data().get("version").asLong());
            publish(name, null);
            assertTrue(nextAbout(events, name).data().get("version").isNull(), "a deletion has no version");
        }
    }

    /** Headers and an opening comment come at once, circuits or not; heartbeats (1 s in tests) keep it alive. */
    @Test
    void theEventStreamOpensAtOnceAndSendsHeartbeats() throws Exception {
        java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
        java.net.http.HttpResponse<java.io.InputStream> r = client.sendAsync(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(TestPlatform.url("/circuits/events"))).build(),
                java.net.http.HttpResponse.BodyHandlers.ofInputStream()).get(5, java.util.concurrent.TimeUnit.SECONDS);
        try (java.io.BufferedReader lines = new java.io.BufferedReader(
                new java.io.InputStreamReader(r.body(), java.nio.charset.StandardCharsets.UTF_8))) {
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"), r.headers().toString());
            java.util.concurrent.Future<String> first = java.util.concurrent.CompletableFuture.supplyAsync(() -> readLine(lines));
            assertEquals(":circuits", first.get(5, java.util.concurrent.TimeUnit.SECONDS).replace(": ", ":"));
            java.util.concurrent.Future<Boolean> beat = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                for (String line; (line = readLine(lines)) != null; ) {
                    if (line.replace(": ", ":").equals(":heartbeat")) {
                        return true;
                    }
                }
                return false;
            });
            assertTrue(beat.get(10, java.util.concurrent.TimeUnit.SECONDS), "a heartbeat comment within 10 s");
        }
    }

    private static String readLine(java.io.BufferedReader lines) {
        try {
            return lines.readLine();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void healthAndMetricsDescribeTheService() {
        given().get("/q/health/ready").then().statusCode(200).body("checks.find { it.name == 'steering' }.data.running", equalTo(0));
        // the messaging check follows the channel: a failed circuits channel is not live
        given().get("/q/health/live").then().statusCode(200)
                .body("checks.find { it.name == 'SmallRye Reactive Messaging - liveness check' }.data.circuits", equalTo("[OK]"));
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        for (String m : new String[] {"cna_steering_queue_depth", "cna_steering_batch_size", "cna_steering_tokens_total",
                "cna_steering_steps_total", "cna_steering_preempted_passes_total", "cna_steering_circuits ", "cna_steering_swap_latency"}) {
            assertTrue(metrics.contains(m), "metrics have " + m);
        }
        assertFalse(status().getString("model.id").isBlank());
    }

    /** The next event about this circuit (the snapshot of the others may still be arriving). */
    private static SseStream.Event nextAbout(SseStream events, String name) {
        SseStream.Event e;
        do {
            e = events.next();
        } while (!e.data().get("name").asText().equals(name));
        return e;
    }

    private static void await(BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "condition not met within 30 s: " + status().prettyPrint());
            TestPlatform.sleep(100);
        }
    }
}
