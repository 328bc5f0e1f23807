package dev.cna.gateway;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.api.Topics;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static dev.cna.gateway.Platform.ADMIN_KEY;
import static dev.cna.gateway.Platform.CHAT_KEY;
import static dev.cna.gateway.Platform.JSON;
import static dev.cna.gateway.Problems.assertProblem;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * PUT /api/circuits/{name} (manual circuits published to cna.circuits) and POST /api/eval/detect (steering-service's
 * detectors) over the real stack: Kafka, steering-service and attribution-service.
 */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class ManualCircuitsTest {

    /** A manual circuit of the served model without its version (the gateway assigns it), as the web UI sends it. */
    static ObjectNode manual(String name, int from, int to, int perLayer) throws Exception {
        ObjectNode circuit = (ObjectNode) JSON.readTree(Platform.circuit(name, 1, from, to, perLayer));
        circuit.remove("version");
        return circuit;
    }

    private static Response put(String name, Object body, String key) {
        return given().auth().oauth2(key).contentType(ContentType.JSON).body(body.toString()).put("/api/circuits/" + name);
    }

    @Test
    void aManualCircuitIsPublishedAsTheNextVersionAndServed() throws Exception {
        String name = "manual-" + System.nanoTime();
        ObjectNode body = manual(name, 2, 3, 2);
        // neurons in any order: the gateway sorts them as the schema wants (|delta| descending)
        ArrayNode neurons = (ArrayNode) body.get("neurons");
        ObjectNode last = (ObjectNode) neurons.remove(neurons.size() - 1);
        neurons.insert(0, last);
        body.remove(List.of("createdAt", "source", "schema")); // the gateway fills them in

        put(name, body, ADMIN_KEY).then().statusCode(202).contentType(ContentType.JSON)
                .body("name", equalTo(name)).body("version", equalTo(1)).body("topic", equalTo(Topics.CIRCUITS));
        Platform.await(() -> given().auth().oauth2(CHAT_KEY).get("/api/circuits/" + name).statusCode() == 200,
                Duration.ofSeconds(30), "steering-service serves the manual circuit");
        JsonPath served = given().auth().oauth2(CHAT_KEY).get("/api/circuits/" + name).jsonPath();
        assertEquals("manual", served.getString("method"));
        assertEquals(4, served.getList("neurons").size());
        assertEquals(4.0, served.getDouble("neurons[0].delta"), "sorted by |delta| descending");

        ((ArrayNode) body.get("neurons")).remove(0); // dropped a neuron: version 2
        put(name, body, ADMIN_KEY).then().statusCode(202).body("version", equalTo(2));
        Platform.await(() -> given().auth().oauth2(CHAT_KEY).get("/api/circuits/" + name).jsonPath().getInt("version") == 2,
                Duration.ofSeconds(30), "steering-service serves version 2");
        assertEquals(3, given().auth().oauth2(CHAT_KEY).get("/api/circuits/" + name).jsonPath().getList("neurons").size());
        assertEquals(Topics.CIRCUITS, ConfigProvider.getConfig().getValue("mp.messaging.outgoing.circuits.topic", String.class),
                "the channel writes cna-api's topic");
    }

    @Test
    void onlyAdminsSave() throws Exception {
        String name = "manual-auth";
        String path = "/api/circuits/" + name;
        assertProblem(put(name, manual(name, 1, 1, 1), CHAT_KEY), 403, "forbidden", path, "admin");
        assertProblem(given().contentType(ContentType.JSON).body(manual(name, 1, 1, 1).toString()).put(path), 401,
                "unauthorized", path, "");
    }

    @Test
    void badCircuitsAreProblems() throws Exception {
        String name = "manual-bad";
        String path = "/api/circuits/" + name;
        assertProblem(given().auth().oauth2(ADMIN_KEY).contentType(ContentType.JSON).body("{not json").put(path),
                400, "invalid-json", path, "");
        assertProblem(put(name, "[]", ADMIN_KEY), 400, "invalid-request", path, "cna.circuit/v1 object");

        ObjectNode versioned = manual(name, 1, 1, 1).put("version", 7);
        assertProblem(put(name, versioned, ADMIN_KEY), 400, "invalid-request", path, "version");

        ObjectNode noNeurons = manual(name, 1, 1, 1);
        noNeurons.putArray("neurons");
        assertProblem(put(name, noNeurons, ADMIN_KEY), 400, "invalid-request", path, "not a cna.circuit/v1 document");

        ObjectNode extra = manual(name, 1, 1, 1).put("colour", "blue");
        assertProblem(put(name, extra, ADMIN_KEY), 400, "invalid-request", path, "colour");

        ObjectNode attributed = manual(name, 1, 1, 1).put("method", "contrastive");
        assertProblem(put(name, attributed, ADMIN_KEY), 400, "invalid-request", path, "only manual");

        assertProblem(put(name, manual("other-name", 1, 1, 1), ADMIN_KEY), 400, "invalid-request", path, "path's");

        ObjectNode foreign = manual(name, 1, 1, 1);
        ((ObjectNode) foreign.get("model")).put("fingerprint", "0".repeat(64));
        assertProblem(put(name, foreign, ADMIN_KEY), 400, "invalid-request", path, "model.fingerprint");

        int layers = Platform.steeringStatus().getInt("model.layers");
        ObjectNode outside = manual(name, 1, 1, 1);
        ((ObjectNode) outside.get("neurons").get(0)).put("layer", layers);
        assertProblem(put(name, outside, ADMIN_KEY), 400, "invalid-request", path, "outside the model");

        ObjectNode twice = manual(name, 1, 1, 2);
        ((ObjectNode) twice.get("neurons").get(1)).put("index", 0);
        assertProblem(put(name, twice, ADMIN_KEY), 400, "invalid-request", path, "listed twice");

        ObjectNode overTopK = manual(name, 1, 1, 2);
        ((ObjectNode) overTopK.get("stats")).put("topK", 1);
        assertProblem(put(name, overTopK, ADMIN_KEY), 400, "invalid-request", path, "topK");

        assertProblem(put("bad name", manual(name, 1, 1, 1), ADMIN_KEY), 400, "invalid-request", "/api/circuits/bad name", "feature name");
        given().auth().oauth2(CHAT_KEY).get(path).then().statusCode(404); // nothing of the above was published
    }

    @Test
    void aFeatureOfAttributionServiceIsAConflict() throws Exception {
        String feature = "attributed-" + System.nanoTime();
        given().auth().oauth2(ADMIN_KEY).contentType(ContentType.JSON)
                .body("{\"positive\": [\"Bonjour, ça va ?\"], \"negative\": [\"Hello, how are you?\"]}")
                .post("/api/features/" + feature + "/pairs").then().statusCode(202);
        Platform.await(() -> given().auth().oauth2(CHAT_KEY).get("/api/features/" + feature).statusCode() == 200,
                Duration.ofMinutes(2), "attribution-service counts the pair");
        assertProblem(put(feature, manual(feature, 1, 1, 1), ADMIN_KEY), 409, "conflict", "/api/circuits/" + feature,
                "attribution-service keeps the feature");
    }

    @Test
    void detectorsScoreReplies() {
        JsonPath scores = given().auth().oauth2(CHAT_KEY).contentType(ContentType.JSON).body("""
                {"replies": ["I'm sorry, but I can't help with that.",
                             "Bonjour ! Je suis très content de vous voir, et nous allons au parc avec les enfants.",
                             "the cat sat on the cat sat on",
                             ""]}""")
                .post("/api/eval/detect").then().statusCode(200).extract().jsonPath();
        assertEquals(List.of(true, false, false, false), scores.getList("results.refusal"));
        assertEquals(List.of(false, true, false, false), scores.getList("results.french"));
        assertEquals(0.8, scores.getDouble("results[2].quality"), 1e-9, "5 word 4-grams, 4 distinct");
        assertEquals(1.0, scores.getDouble("results[0].quality"), 1e-9);
        assertEquals("i can't", scores.getString("results[0].refusalPhrase"), "the first pattern that matches");
        assertNull(scores.get("results[3].frenchShare"), "no function words: no share");

        String tooMany = "{\"replies\": [" + String.join(",", java.util.Collections.nCopies(65, "\"x\"")) + "]}";
        assertProblem(given().auth().oauth2(CHAT_KEY).contentType(ContentType.JSON).body(tooMany).post("/api/eval/detect"),
                400, "invalid-request", "/api/eval/detect", "1 to 64");
        assertProblem(given().auth().oauth2(CHAT_KEY).contentType(ContentType.JSON).body("{\"replies\": []}").post("/api/eval/detect"),
                400, "invalid-request", "/api/eval/detect", "replies");
    }
}
