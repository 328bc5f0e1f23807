package dev.cna.steering;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitJson;
import dev.cna.core.circuit.TestCircuits;
import dev.cna.devstack.KafkaClients;
import dev.cna.devstack.PlatformTopics;
import io.restassured.path.json.JsonPath;

import java.time.Duration;

import static io.restassured.RestAssured.given;

/** The running service as the tests see it: its model, circuits published to its topic, its URLs. */
final class TestPlatform {
    static final ObjectMapper JSON = new ObjectMapper();

    private TestPlatform() {}

    /** Waits until the service is ready (model loaded, registry caught up). */
    static void awaitReady() {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (given().get("/q/health/ready").statusCode() != 200) {
            if (System.nanoTime() > deadline || given().get("/q/health/ready").asString().contains("\"failure\"")) {
                throw new AssertionError("steering-service not ready: " + given().get("/q/health/ready").asString());
            }
            sleep(200);
        }
    }

    static JsonPath status() {
        return given().get("/status").then().statusCode(200).extract().jsonPath();
    }

    static String url(String path) {
        return io.restassured.RestAssured.baseURI + ":" + io.restassured.RestAssured.port + path;
    }

    /** A manual circuit for the running model: neurons given as (layer, index, delta) triples. */
    static Circuit circuit(String name, long version, double[]... neurons) {
        JsonPath s = status();
        return TestCircuits.circuit(name, version, s.getString("model.fingerprint"), s.getInt("model.layers"),
                s.getInt("model.intermediateSize"), neurons);
    }

    /** count neurons of one layer, from the given index on. */
    static double[][] neuronsOfLayer(int layer, int from, int count) {
        double[][] n = new double[count][];
        for (int i = 0; i < count; i++) {
            n[i] = new double[] {layer, from + i, 1.0 + i};
        }
        return n;
    }

    static void publish(Circuit c) {
        publish(c.name(), CircuitJson.write(c));
    }

    static void publish(String key, String value) {
        try {
            KafkaClients.produce(PlatformTopics.CIRCUITS, key, value);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits until GET /circuits/{name} answers the given status (and version, for 200). */
    static void awaitCircuit(String name, int status, long version) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            var r = given().get("/circuits/" + name);
            if (r.statusCode() == status && (status != 200 || r.jsonPath().getLong("version") == version)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("circuit " + name + " did not reach " + status + "/v" + version + ": " + r.asString());
            }
            sleep(50);
        }
    }

    /** A /generate body: a chat with one user message, greedy, with the given steering (name, multiplier pairs). */
    static String request(String user, int maxTokens, String mode, Object... steering) {
        ObjectNode body = JSON.createObjectNode();
        body.putArray("messages").addObject().put("role", "user").put("content", user);
        body.put("max_tokens", maxTokens).put("temperature", 0);
        ArrayNode s = body.putArray("steering");
        for (int i = 0; i < steering.length; i += 2) {
            s.addObject().put("circuit", (String) steering[i]).put("multiplier", ((Number) steering[i + 1]).floatValue());
        }
        if (mode != null) {
            body.put("steering_mode", mode);
        }
        return body.toString();
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
