package dev.cna.gateway;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole platform through the gateway: prompt pairs posted to the ingest endpoint reach attribution-service
 * over Kafka, its progress shows on GET /api/features/{name}, the circuit it publishes reaches steering-service's
 * registry (GET /api/circuits/{name}), and a chat steered by it streams under that version.
 */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class EndToEndTest {
    private static final String ADMIN_KEY = "test-admin";

    @Test
    void ingestedPairsBecomeACircuitThatSteersAChat() {
        String feature = "e2e-french-" + System.nanoTime();
        given().auth().oauth2(ADMIN_KEY).contentType(ContentType.JSON).body("""
                {"positive": ["Pourquoi le ciel est-il bleu ?", "Écris un petit poème sur la mer.",
                              "Comment puis-je apprendre à jouer de la guitare ?", "Raconte-moi une courte histoire sur un chat."],
                 "negative": ["Why is the sky blue?", "Write a short poem about the sea.",
                              "How can I learn to play the guitar?", "Tell me a short story about a cat."]}""")
                .post("/api/features/" + feature + "/pairs").then().statusCode(202).body("feature", equalTo(feature));

        Platform.await(() -> given().auth().oauth2(Platform.CHAT_KEY).get("/api/features/" + feature).statusCode() == 200
                && given().auth().oauth2(Platform.CHAT_KEY).get("/api/features/" + feature).jsonPath().getLong("version") >= 1,
                Duration.ofMinutes(2), "attribution-service counts the pairs and publishes version 1");
        JsonPath progress = given().auth().oauth2(Platform.CHAT_KEY).get("/api/features/" + feature).jsonPath();
        assertEquals(4, progress.getLong("positive"));
        assertEquals(4, progress.getLong("negative"));

        Platform.await(() -> given().auth().oauth2(Platform.CHAT_KEY).get("/api/circuits/" + feature).statusCode() == 200,
                Duration.ofMinutes(1), "steering-service registers the circuit");
        given().auth().oauth2(Platform.CHAT_KEY).get("/api/circuits/" + feature).then().statusCode(200)
                .body("version", equalTo(1)).body("method", equalTo("contrastive")).body("neurons.size()", equalTo(200));

        String streamed = given().auth().oauth2(Platform.CHAT_KEY).contentType(ContentType.JSON)
                .body(Platform.chat("Quelle est la capitale de la France ?", 8, "\"stream\": true",
                        "\"steering\": [{\"circuit\": \"" + feature + "\", \"multiplier\": 0.3}]"))
                .post("/v1/chat/completions").then().statusCode(200).extract().asString();
        assertTrue(streamed.contains("\"" + feature + "\":1"), "chunks name the circuit version: " + streamed);
        assertTrue(streamed.trim().endsWith("data: [DONE]"), streamed);
    }

    @Test
    void anUnknownFeatureIsA404Problem() {
        given().auth().oauth2(Platform.CHAT_KEY).get("/api/features/never-ingested").then().statusCode(404)
                .contentType(startsWith("application/problem+json")).body("detail", containsString("never-ingested"));
    }
}
