package dev.cna.steering;

import dev.cna.api.Problem;
import dev.cna.devstack.DevKafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every kind of bad request gets its 4xx as application/problem+json, and the service keeps serving. */
@QuarkusTest
@QuarkusTestResource(DevKafkaTestResource.class)
class RequestErrorsTest {

    @BeforeEach
    void ready() {
        TestPlatform.awaitReady();
    }

    private static Response post(String body) {
        return given().contentType("application/json").body(body).post("/generate");
    }

    private static void problem(Response r, int status, String type, String detailPart) {
        r.then().statusCode(status)
                .contentType(startsWith(Problem.MEDIA_TYPE))
                .body("status", equalTo(status))
                .body("type", equalTo("urn:cna:problem:" + type))
                .body("detail", containsString(detailPart));
    }

    @Test
    void invalidBodiesAre400WithTheReason() {
        problem(post("{not json"), 400, "bad-request", "not valid JSON");
        problem(post("{}"), 400, "invalid-request", "exactly one of prompt");
        problem(post("{\"prompt\":\"hi\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"), 400, "invalid-request", "exactly one of prompt");
        problem(post("{\"prompt\":\"\"}"), 400, "invalid-request", "prompt must not be empty");
        problem(post("{\"messages\":[]}"), 400, "invalid-request", "messages must not be empty");
        problem(post("{\"messages\":[{\"role\":\"robot\",\"content\":\"hi\"}]}"), 400, "invalid-request", "messages[0]");
        problem(post("{\"prompt\":\"hi\",\"max_tokens\":0}"), 400, "invalid-request", "max_tokens must be 1 to 1024");
        problem(post("{\"prompt\":\"hi\",\"max_tokens\":5000}"), 400, "invalid-request", "max_tokens must be 1 to 1024");
        problem(post("{\"prompt\":\"hi\",\"temperature\":-1}"), 400, "invalid-request", "temperature must be 0 to 2");
        problem(post("{\"prompt\":\"hi\",\"temperature\":2.5}"), 400, "invalid-request", "temperature must be 0 to 2");
        problem(post("{\"prompt\":\"hi\",\"top_p\":0}"), 400, "invalid-request", "top_p must be in (0, 1]");
        problem(post("{\"prompt\":\"hi\",\"top_k\":-2}"), 400, "invalid-request", "top_k must be >= 0");
        problem(post("{\"prompt\":\"hi\",\"stop\":[\"\"]}"), 400, "invalid-request", "stop takes at most");
        problem(post("{\"prompt\":\"hi\",\"steering\":[{\"circuit\":\"a b\",\"multiplier\":1}]}"), 400, "invalid-request", "steering[0].circuit");
        problem(post("{\"prompt\":\"hi\",\"steering\":[{\"circuit\":\"a\"}]}"), 400, "invalid-request", "steering[0].multiplier");
        problem(post("{\"prompt\":\"hi\",\"steering\":[{\"circuit\":\"a\",\"multiplier\":1e9}]}"), 400, "invalid-request", "steering[0].multiplier");
        problem(post("{\"prompt\":\"hi\",\"steering\":[{\"circuit\":\"a\",\"multiplier\":1},{\"circuit\":\"a\",\"multiplier\":2}]}"),
                400, "invalid-request", "named twice");
        problem(post("{\"prompt\":\"hi\",\"steering_mode\":\"sticky\"}"), 400, "invalid-request", "steering_mode must be live or pinned");
        problem(post("{\"prompt\":\"hi\",\"temprature\":0}"), 400, "bad-request", "temprature");
        problem(post("{\"prompt\":\"" + "word ".repeat(9000) + "\"}"), 400, "invalid-request", "the model's context is");
    }

    @Test
    void pinnedSteeringWithAnUnknownCircuitIs404() {
        problem(post("{\"prompt\":\"hi\",\"steering_mode\":\"pinned\",\"steering\":[{\"circuit\":\"nowhere\",\"multiplier\":0}]}"),
                404, "unknown-circuit", "nowhere");
        problem(given().get("/circuits/nowhere"), 404, "unknown-circuit", "nowhere");
    }

    @Test
    void wrongMethodAndMediaTypeAreProblemsToo() {
        problem(given().contentType("text/plain").body("hello").post("/generate"), 415, "unsupported-media-type", "");
        problem(given().get("/generate"), 405, "method-not-allowed", "");
    }

    @Test
    void aBodyOverTheLimitIsRefused() throws Exception {
        // Expect: 100-continue, so the refusal comes before the body is sent: without it the server may close the
        // connection while the client is still writing (a broken pipe instead of the answer).
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(TestPlatform.url("/generate")))
                .expectContinue(true).header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"prompt\":\"" + "x".repeat(1_100_000) + "\"}")).build();
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1)
                .build().send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(413, r.statusCode());
    }

    @Test
    void afterAllThatTheServiceStillAnswers() {
        invalidBodiesAre400WithTheReason();
        String body = TestPlatform.request("Say hello.", 4, null);
        try (SseStream s = SseStream.post(TestPlatform.url("/generate"), body)) {
            var events = s.rest();
            assertEquals("done", events.get(events.size() - 1).name());
        }
    }
}
