package dev.cna.gateway;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.cna.gateway.Platform.CHAT_KEY;
import static dev.cna.gateway.Problems.assertProblem;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * steering-service's own refusal keeps its problem type through the gateway: with one row and one queue place (its
 * own stack, {@link OneRow}), a running and a queued stream fill it, and the next request on every generating route
 * is steering-service's 429 {@code urn:cna:problem:queue-full} with its Retry-After, not the gateway's generic
 * too-many-requests (which is its per-key rate limit, RateLimitTest).
 */
@QuarkusTest
@WithTestResource(QueueFullTest.OneRow.class)
class QueueFullTest {
    /** steering-service with {@code cna.steering.max-batch=1} and {@code cna.steering.queue-capacity=1}, no attribution-service. */
    public static class OneRow extends SteeringStack {
        public OneRow() {
            super(Map.of("cna.steering.max-batch", "1", "cna.steering.queue-capacity", "1"), false);
        }
    }

    /**
     * A long streamed generation: it holds the one row until the test closes it, on any machine (8000 tokens at
     * temperature 2, where the end-of-turn token is one of ~49k nearly equally likely ones).
     */
    private static final String LONG = "{\"messages\": [{\"role\": \"user\", \"content\": \"Write a long story about a lighthouse keeper.\"}],"
            + " \"max_tokens\": 8000, \"temperature\": 2.0, \"top_p\": 1.0, \"seed\": 42}";

    @Test
    void aFullQueueIsSteeringServicesQueueFullProblemWithRetryAfter() throws Exception {
        JsonPath status = Platform.steeringStatus();
        assertEquals(1, status.getInt("scheduler.maxBatch"));
        assertEquals(1, status.getInt("scheduler.queueCapacity"));
        try (SseStream running = SseStream.post(Platform.url("/api/generate"), CHAT_KEY, LONG)) {
            assertEquals(200, running.status());
            assertEquals("token", running.next().name(), "the first request holds the row");
            // the second waits in the queue: the gateway sends its headers only with the first event, so ask off-thread
            CompletableFuture<SseStream> queued = CompletableFuture.supplyAsync(() -> SseStream.post(Platform.url("/api/generate"),
                    CHAT_KEY, "{\"prompt\": \"Say hi.\", \"max_tokens\": 2, \"temperature\": 0}"));
            Platform.await(() -> Platform.steeringStatus().getInt("scheduler.queued") == 1, Duration.ofSeconds(30),
                    "the second request queued in steering-service");

            List<Response> refused = List.of(
                    post("/api/generate", LONG),
                    post("/v1/chat/completions", Platform.chat("Hi.", 4, "\"stream\": true")),
                    post("/v1/chat/completions", Platform.chat("Hi.", 4)));
            List<String> paths = List.of("/api/generate", "/v1/chat/completions", "/v1/chat/completions");
            for (int i = 0; i < refused.size(); i++) {
                assertProblem(refused.get(i), 429, "queue-full", paths.get(i), "rows are busy");
                refused.get(i).then().header("Retry-After", equalTo("1"));
                if (paths.get(i).startsWith("/api/")) {
                    refused.get(i).then().body("title", equalTo("Queue Full"));
                } else { // OpenAI's envelope: its SDKs retry a rate_limit_error after Retry-After
                    refused.get(i).then().body("error.type", equalTo("rate_limit_error"));
                }
            }
            JsonPath during = Platform.steeringStatus();
            assertEquals(1, during.getInt("scheduler.running") + during.getInt("scheduler.prefilling"),
                    "the first request still held the row: the 429s were the queue's");

            running.close(); // frees the row: the queued request runs to its end
            try (SseStream second = queued.get(60, TimeUnit.SECONDS)) {
                assertEquals(200, second.status());
                List<SseStream.Event> events = second.rest();
                assertEquals("done", events.get(events.size() - 1).name(), events.toString());
            }
        }
    }

    private static Response post(String path, String body) {
        return given().auth().oauth2(CHAT_KEY).contentType(ContentType.JSON).body(body).post(path);
    }
}
