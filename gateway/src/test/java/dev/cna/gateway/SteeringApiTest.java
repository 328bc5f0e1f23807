package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static dev.cna.gateway.Platform.url;
import static dev.cna.gateway.Platform.CHAT_KEY;
import static dev.cna.gateway.Platform.JSON;
import static dev.cna.gateway.Problems.assertProblem;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The native API: /api/generate and /api/circuits forwarded from the real steering-service. */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class SteeringApiTest {

    @Test
    void generateStreamsSteeringServicesEventsUnchanged() throws Exception {
        String name = "native-" + System.nanoTime();
        Platform.publish(name, 3, Platform.circuit(name, 3, 2, 2, 5));
        String body = "{\"prompt\": \"The capital of France is\", \"max_tokens\": 6, \"temperature\": 0, \"logprobs\": 2,"
                + " \"steering\": [{\"circuit\": \"" + name + "\", \"multiplier\": 0.5}]}";
        List<SseStream.Event> events;
        try (SseStream s = SseStream.post(url("/api/generate"), CHAT_KEY, body)) {
            assertEquals(200, s.status());
            events = s.rest();
        }
        SseStream.Event done = events.get(events.size() - 1);
        assertEquals("done", done.name());
        JsonNode d = JSON.readTree(done.data());
        assertEquals("length", d.get("finish_reason").asText());
        assertEquals(6, d.at("/usage/completion_tokens").asInt());
        assertTrue(d.has("timings"));
        List<SseStream.Event> tokens = events.stream().filter(e -> e.name().equals("token")).toList();
        assertTrue(tokens.size() >= 6, events.toString());
        assertEquals(3, JSON.readTree(tokens.get(0).data()).at("/circuits/" + name).asInt());
        assertEquals(0, JSON.readTree(tokens.get(0).data()).get("index").asInt());
        // the log-probability contract (steering-service/README.md) comes through as is
        JsonNode first = JSON.readTree(tokens.get(0).data());
        assertTrue(first.get("logprob").asDouble() <= 0, first.toString());
        assertEquals(2, first.get("top_logprobs").size());
        assertEquals(first.get("token").asInt(), first.at("/top_logprobs/0/token").asInt(), "greedy: the most likely");
        assertTrue(first.at("/top_logprobs/0/bytes").isArray() && first.at("/top_logprobs/0/text").isTextual());
    }

    @Test
    void generateErrorsAreProblems() {
        assertProblem(given().auth().oauth2(CHAT_KEY).contentType(ContentType.JSON).body("{\"max_tokens\": 4}").post("/api/generate"),
                400, "invalid-request", "/api/generate", "give exactly one of prompt");
        assertProblem(given().contentType(ContentType.JSON).body("{\"prompt\": \"x\"}").post("/api/generate"),
                401, "unauthorized", "/api/generate", "no API key");
    }

    @Test
    void circuitsAreListedAndServedInFull() throws Exception {
        String name = "listed-" + System.nanoTime();
        String circuit = Platform.circuit(name, 1, 7, 8, 4);
        Platform.publish(name, 1, circuit);
        given().auth().oauth2(CHAT_KEY).get("/api/circuits").then().statusCode(200)
                .body("name", hasItem(name))
                .body("find { it.name == '" + name + "' }.neurons", equalTo(8))
                .body("find { it.name == '" + name + "' }.neuronsPerLayer[7]", equalTo(4));
        String full = given().auth().oauth2(CHAT_KEY).get("/api/circuits/" + name).then().statusCode(200)
                .contentType(ContentType.JSON).extract().asString();
        assertEquals(JSON.readTree(circuit), JSON.readTree(full));
        assertProblem(given().auth().oauth2(CHAT_KEY).get("/api/circuits/no-such-circuit"), 404, "unknown-circuit",
                "/api/circuits/no-such-circuit", "circuit no-such-circuit is not in the registry");
        assertProblem(given().auth().oauth2(CHAT_KEY).get("/api/circuits/..bad"), 400, "invalid-request",
                "/api/circuits/..bad", "must match");
    }

    @Test
    void circuitEventsStreamTheRegistryThenItsChanges() throws Exception {
        String name = "events-" + System.nanoTime();
        Platform.publish(name, 1, Platform.circuit(name, 1, 1, 1, 3));
        try (SseStream s = SseStream.get(url("/api/circuits/events"), CHAT_KEY)) {
            assertEquals(200, s.status());
            assertTrue(s.contentType().startsWith("text/event-stream"), s.contentType());
            awaitVersion(s, name, 1);
            Platform.publish(name, 2, Platform.circuit(name, 2, 1, 1, 5));
            JsonNode change = awaitVersion(s, name, 2);
            assertTrue(change.get("publishedAtMillis").asLong() > 0);
        }
    }

    /** steering-service opens the stream with a comment: headers come at once, before any circuit changes. */
    @Test
    void circuitEventsOpenAtOnceWithAComment() {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            try (SseStream s = SseStream.get(url("/api/circuits/events"), CHAT_KEY)) {
                assertEquals(200, s.status());
                assertEquals(": circuits", s.line());
            }
        });
    }

    private static JsonNode awaitVersion(SseStream s, String name, long version) throws Exception {
        for (SseStream.Event e; (e = s.next()) != null; ) {
            JsonNode data = JSON.readTree(e.data());
            if (e.name().equals("circuit") && data.get("name").asText().equals(name) && data.get("version").asLong() == version) {
                return data;
            }
        }
        throw new AssertionError("the events stream ended before " + name + " v" + version);
    }
}
