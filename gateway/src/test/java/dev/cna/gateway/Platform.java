package dev.cna.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import dev.cna.devstack.KafkaClients;
import dev.cna.devstack.PlatformTopics;
import io.restassured.path.json.JsonPath;
import org.eclipse.microprofile.config.ConfigProvider;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The stack behind the gateway as tests see it ({@link SteeringStack}): steering-service's status, circuits on Kafka. */
final class Platform {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String CHAT_KEY = "test-chat";
    static final String ADMIN_KEY = "test-admin";

    private Platform() {}

    /** The gateway's own URL for a path (the test instance's port). */
    static String url(String path) {
        return "http://127.0.0.1:" + io.restassured.RestAssured.port + path;
    }

    static String steeringUrl() {
        return ConfigProvider.getConfig().getValue("cna.steering.url", String.class);
    }

    /** steering-service's own GET /status (not through the gateway). */
    static JsonPath steeringStatus() {
        return given().get(steeringUrl() + "/status").then().statusCode(200).extract().jsonPath();
    }

    /**
     * A manual circuit for the served model as {@code cna.circuit/v1} JSON, checked against the schema:
     * {@code perLayer} neurons (indices from 0) in each of the layers {@code from..to}, deltas descending.
     */
    static String circuit(String name, long version, int from, int to, int perLayer) {
        JsonPath status = steeringStatus();
        ObjectNode c = JSON.createObjectNode().put("schema", "cna.circuit/v1").put("name", name).put("version", version);
        c.putObject("model").put("id", status.getString("model.id")).put("fingerprint", status.getString("model.fingerprint"))
                .put("layers", status.getInt("model.layers")).put("intermediateSize", status.getInt("model.intermediateSize"));
        c.put("method", "manual");
        ArrayNode neurons = c.putArray("neurons");
        int count = (to - from + 1) * perLayer;
        int rank = 0;
        // rank order is |delta| descending: give every neuron its own delta, falling in the order written
        for (int layer = from; layer <= to; layer++) {
            for (int index = 0; index < perLayer; index++) {
                neurons.addObject().put("layer", layer).put("index", index).put("delta", (double) (count - rank++));
            }
        }
        c.putObject("stats").put("positiveCount", 0).put("negativeCount", 0).put("topK", count)
                .put("blacklistedCount", 0).putArray("excludedLayers");
        c.put("createdAt", "2026-11-24T10:15:30Z").putNull("source");
        try (InputStream in = Files.newInputStream(Path.of("..", "docs", "schemas", "circuit.v1.schema.json"))) {
            var errors = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in).validate(c);
            assertEquals(0, errors.size(), () -> "test circuit does not match the schema: " + errors);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return c.toString();
    }

    /** Publishes a circuit to cna.circuits and waits until steering-service serves that version. */
    static void publish(String name, long version, String circuitJson) {
        try {
            KafkaClients.produce(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class),
                    PlatformTopics.CIRCUITS, name, circuitJson);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        await(() -> {
            var r = given().get(steeringUrl() + "/circuits/" + name);
            return r.statusCode() == 200 && r.jsonPath().getLong("version") == version;
        }, Duration.ofSeconds(30), "circuit " + name + " v" + version + " in steering-service");
    }

    /** A string as a JSON string literal. */
    static String quote(String text) {
        return JSON.getNodeFactory().textNode(text).toString();
    }

    static void await(BooleanSupplier condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** A chat completion body: one user message, greedy, extra fields as raw JSON (e.g. "\"stream\": true"). */
    static String chat(String user, int maxTokens, String... extra) {
        StringBuilder body = new StringBuilder("{\"messages\": [{\"role\": \"user\", \"content\": ")
                .append(quote(user)).append("}], \"max_tokens\": ").append(maxTokens).append(", \"temperature\": 0");
        for (String e : extra) {
            body.append(", ").append(e);
        }
        return body.append('}').toString();
    }
}
