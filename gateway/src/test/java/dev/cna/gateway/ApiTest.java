package dev.cna.gateway;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.config.HttpClientConfig;
import io.restassured.config.RestAssuredConfig;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static dev.cna.gateway.Problems.assertProblem;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.nullValue;

/**
 * Auth, validation, the error answers and the operational endpoints, over real HTTP. No Kafka broker and no
 * attribution-service run here, so whatever reaches them meets the 503s a client would see.
 */
@QuarkusTest
class ApiTest {
    private static final String PAIRS = "/api/features/french/pairs";
    private static final String VALID = "{\"positive\":[\"Bonjour\"],\"negative\":[\"Hello\"]}";

    @Test
    void noKeyIs401WithABearerChallenge() {
        var r = given().contentType(ContentType.JSON).body(VALID).post(PAIRS);
        assertProblem(r, 401, "unauthorized", PAIRS, "no API key");
        r.then().header("WWW-Authenticate", containsString("Bearer"));
    }

    @Test
    void unknownKeyIs401() {
        assertProblem(given().auth().oauth2("not-a-key").get("/api/features/french"), 401, "unauthorized",
                "/api/features/french", "unknown API key");
    }

    @Test
    void chatKeyCannotWrite() {
        assertProblem(given().auth().oauth2("test-chat").contentType(ContentType.JSON).body(VALID).post(PAIRS),
                403, "forbidden", PAIRS, "lacks the role admin");
    }

    @Test
    void unreachableAttributionServiceIs503WithRetryAfter() {
        // a chat key from the keys file may read; the read meets the absent attribution-service
        var r = given().auth().oauth2("test-chat").get("/api/features/french");
        assertProblem(r, 503, "service-unavailable", "/api/features/french", "attribution-service is unreachable");
        r.then().header("Retry-After", "5");
    }

    @Test
    void xApiKeyWorksAndAdminImpliesChat() {
        given().header("X-API-Key", "test-chat").get("/api/features/french").then().statusCode(503);
        given().header("X-API-Key", "config-admin").get("/api/features/french").then().statusCode(503);
        given().header("X-API-Key", "not-a-key").get("/api/features/french").then().statusCode(401);
    }

    @Test
    void unreachableSteeringServiceIs503WithRetryAfter() {
        var chat = given().auth().oauth2("test-chat").contentType(ContentType.JSON)
                .body("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream\": true}").post("/v1/chat/completions");
        assertProblem(chat, 503, "service-unavailable", "/v1/chat/completions", "steering-service is unreachable");
        chat.then().header("Retry-After", "5");
        assertProblem(given().auth().oauth2("test-chat").get("/v1/models"), 503, "service-unavailable", "/v1/models",
                "steering-service is unreachable");
        assertProblem(given().auth().oauth2("test-chat").get("/api/circuits/events"), 503, "service-unavailable",
                "/api/circuits/events", "steering-service is unreachable");
    }

    @Test
    void kafkaDownIs503WithRetryAfter() {
        var r = given().auth().oauth2("test-admin").contentType(ContentType.JSON).body(VALID).post(PAIRS);
        assertProblem(r, 503, "service-unavailable", PAIRS, "Kafka did not acknowledge the events");
        r.then().header("Retry-After", "5");
    }

    @Test
    void badJsonIs400() {
        assertProblem(given().auth().oauth2("test-admin").contentType(ContentType.JSON).body("{\"positive\":[").post(PAIRS),
                400, "invalid-json", PAIRS, "end-of-input");
    }

    static Stream<Arguments> invalidBodies() {
        return Stream.of(
                Arguments.of("", "JSON object or a list"),
                Arguments.of("[]", "list of events is empty"),
                Arguments.of("\"text\"", "JSON object or a list"),
                Arguments.of("{\"negative\":[\"a\"]}", "positive must be a list"),
                Arguments.of("{\"positive\":\"a\",\"negative\":[\"b\"]}", "positive must be a list"),
                Arguments.of("{\"positive\":[],\"negative\":[\"b\"]}", "positive is empty"),
                Arguments.of("{\"positive\":[\"a\"],\"negative\":[\" \\t\"]}", "negative[0] is an empty prompt"),
                // blank for the schema's \S, not for String.isBlank
                Arguments.of("{\"positive\":[\"\\u00a0\"],\"negative\":[\"b\"]}", "positive[0] is an empty prompt"),
                Arguments.of("{\"positive\":[\"a\",1],\"negative\":[\"b\"]}", "positive[1] must be a string"),
                Arguments.of("{\"positive\":[\"a\"],\"negative\":[\"b\"],\"chatTemplate\":\"yes\"}", "chatTemplate must be"),
                Arguments.of("{\"positive\":[\"a\"],\"negative\":[\"b\"],\"type\":\"delete\"}", "type must be"),
                Arguments.of("{\"positive\":[\"a\"],\"negative\":[\"b\"],\"options\":{\"topk\":5}}", "unknown option \"topk\""),
                Arguments.of("{\"positive\":[\"a\"],\"negative\":[\"b\"],\"options\":{\"topK\":0}}", "topK must be"),
                Arguments.of("{\"positive\":[\"a\"],\"negative\":[\"b\"],\"options\":{\"topK\":2.5}}", "topK must be"),
                Arguments.of("{\"positive\":[\"a\"],\"negative\":[\"b\"],\"options\":{\"excludeLayers\":[0,-1]}}", ">= 0"),
                Arguments.of("{\"positive\":[\"a\"],\"negative\":[\"b\"],\"options\":{\"excludeLayers\":[1,1]}}", "twice"),
                Arguments.of("{\"positive\":[\"a\"],\"negative\":[\"b\"],\"options\":[]}", "options must be an object"),
                Arguments.of("{\"positive\":[\"a\"],\"negative\":[\"b\"],\"id\":\"mine\"}", "id is set by the gateway"),
                Arguments.of("{\"positive\":[\"a\"],\"negative\":[\"b\"],\"feature\":\"other\"}", "differs from the path"),
                Arguments.of("{\"type\":\"reset\",\"positive\":[\"a\"]}", "a reset takes no positive"),
                Arguments.of("[" + VALID + ",{\"positive\":[\"a\"]}]", "[1]: negative must be a list"));
    }

    @ParameterizedTest
    @MethodSource("invalidBodies")
    void invalidBodiesAre400(String body, String detail) {
        assertProblem(given().auth().oauth2("test-admin").contentType(ContentType.JSON).body(body).post(PAIRS),
                400, "invalid-request", PAIRS, detail);
    }

    @Test
    void invalidFeatureNameIs400() {
        String path = "/api/features/-bad/pairs";
        assertProblem(given().auth().oauth2("test-admin").contentType(ContentType.JSON).body(VALID).post(path),
                400, "invalid-request", path, "feature name must match");
        assertProblem(given().auth().oauth2("test-chat").get("/api/features/" + "x".repeat(129)), 400,
                "invalid-request", "x".repeat(129), "feature name must match");
    }

    @Test
    void promptLongerThanTheLimitIs400() {
        String body = "{\"positive\":[\"" + "a".repeat(32001) + "\"],\"negative\":[\"b\"]}";
        assertProblem(given().auth().oauth2("test-admin").contentType(ContentType.JSON).body(body).post(PAIRS),
                400, "invalid-request", PAIRS, "positive[0] has 32001 chars; at most 32000");
    }

    @Test
    void morePromptsThanTheLimitIs400() {
        String prompts = "[" + "\"p\",".repeat(600) + "\"p\"]";
        String body = "{\"positive\":" + prompts + ",\"negative\":" + prompts + "}";
        assertProblem(given().auth().oauth2("test-admin").contentType(ContentType.JSON).body(body).post(PAIRS),
                400, "invalid-request", PAIRS, "1202 prompts in one request; at most 1000");
    }

    @Test
    void bodyOverTheSizeLimitIs413() {
        String body = "{\"positive\":[\"" + "a".repeat(1024 * 1024) + "\"],\"negative\":[\"b\"]}";
        // Expect: 100-continue, so the refusal comes before the body is sent: without it the server may close the
        // connection while the client is still writing (a broken pipe instead of the answer).
        var expectContinue = RestAssuredConfig.config().httpClient(
                HttpClientConfig.httpClientConfig().setParam("http.protocol.expect-continue", true));
        assertProblem(given().config(expectContinue).auth().oauth2("test-admin").contentType(ContentType.JSON).body(body).post(PAIRS),
                413, "request-entity-too-large", PAIRS, "at most 1048576 (quarkus.http.limits.max-body-size)");
    }

    @Test
    void unsupportedMediaTypeIs415() {
        assertProblem(given().auth().oauth2("test-admin").contentType(ContentType.TEXT).body(VALID).post(PAIRS),
                415, "unsupported-media-type", PAIRS, "");
    }

    @Test
    void unknownRouteIs404() {
        assertProblem(given().auth().oauth2("test-admin").get("/api/nothing-here"), 404, "not-found",
                "/api/nothing-here", "");
    }

    @Test
    void wrongMethodIs405() {
        assertProblem(given().auth().oauth2("test-admin").delete(PAIRS), 405, "method-not-allowed", PAIRS, "");
    }

    @Test
    void healthIsUpWithoutAKey() {
        given().get("/q/health").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void prometheusCountsRequestsByRouteAndStatus() {
        given().auth().oauth2("test-chat").get("/api/features/counted").then().statusCode(503);
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("http_server_requests_seconds_count{"))
                .body(containsString("uri=\"/api/features/{name}\""))
                .body(containsString("status=\"503\""));
    }

    @Test
    void openApiDocumentsTheEndpointsAndSwaggerUiIsServed() {
        given().accept(ContentType.JSON).get("/q/openapi").then().statusCode(200)
                .body("paths", hasKey("/api/features/{name}/pairs"))
                .body("paths", hasKey("/api/features/{name}"))
                .body("components.securitySchemes.apiKey.scheme", equalTo("bearer"));
        given().get("/q/swagger-ui/").then().statusCode(200).body(containsString("swagger"));
    }

    @Test
    void corsIsOffByDefault() {
        given().header("Origin", "https://elsewhere.example").header("Access-Control-Request-Method", "POST")
                .options(PAIRS).then().header("Access-Control-Allow-Origin", nullValue());
    }
}
