package dev.cna.steering;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.api.Problem;
import dev.cna.devstack.DevKafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static dev.cna.steering.TestPlatform.JSON;
import static dev.cna.steering.TestPlatform.url;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * json_schema on the default model: 20 prompts in one batch all answer with a document of the schema; unsupported
 * schema keywords, and tools on a model whose template has none, are 400 problems that say why.
 */
@QuarkusTest
@QuarkusTestResource(DevKafkaTestResource.class)
class StructuredOutputTest {
    static final String SCHEMA = """
            {"type": "object", "properties": {
               "name": {"type": "string", "maxLength": 24}, "age": {"type": "integer"},
               "mood": {"enum": ["happy", "sad", "neutral"]},
               "pets": {"type": "array", "items": {"type": "string", "maxLength": 16}, "maxItems": 3},
               "likes_tea": {"type": "boolean"}},
             "required": ["name", "age", "mood", "pets", "likes_tea"], "additionalProperties": false}""";

    static final List<String> PROMPTS = List.of("a baker from Lyon", "a retired pilot", "a young chess champion",
            "a grumpy cat owner", "a marine biologist", "a school teacher in Osaka", "a jazz drummer", "a beekeeper",
            "a night-shift nurse", "a mountain guide", "a software engineer", "a florist", "a lighthouse keeper",
            "a potter", "a taxi driver in Cairo", "a violin maker", "a librarian", "a farmer with goats",
            "an astronaut", "a street musician");

    @BeforeEach
    void ready() {
        TestPlatform.awaitReady();
    }

    private static String body(String user, JsonNode schema) {
        ObjectNode body = JSON.createObjectNode();
        body.putArray("messages").addObject().put("role", "user")
                .put("content", "Describe " + user + " as a JSON object with name, age, mood, pets and likes_tea.");
        body.put("max_tokens", 160).put("temperature", 0);
        body.set("json_schema", schema);
        return body.toString();
    }

    @Test
    void twentyPromptsAnswerWithDocumentsOfTheSchema() throws Exception {
        JsonNode schema = JSON.readTree(SCHEMA);
        ExecutorService pool = Executors.newFixedThreadPool(PROMPTS.size());
        try {
            List<CompletableFuture<String>> replies = new ArrayList<>();
            for (String p : PROMPTS) {
                replies.add(CompletableFuture.supplyAsync(() -> {
                    try (SseStream s = SseStream.post(url("/generate"), body(p, schema))) {
                        assertEquals(200, s.status);
                        List<SseStream.Event> events = s.rest();
                        StringBuilder text = new StringBuilder();
                        events.stream().filter(e -> e.name().equals("token")).forEach(e -> text.append(e.data().get("text").asText()));
                        assertEquals("stop", events.get(events.size() - 1).data().get("finish_reason").asText(), text.toString());
                        return text.toString();
                    }
                }, pool));
            }
            for (CompletableFuture<String> r : replies) {
                String text = r.get();
                JsonNode doc = JSON.readTree(text);
                assertEquals(5, doc.size(), text);
                assertTrue(doc.get("name").isTextual() && doc.get("age").isIntegralNumber() && doc.get("likes_tea").isBoolean(), text);
                assertTrue(List.of("happy", "sad", "neutral").contains(doc.get("mood").asText()), text);
                assertTrue(doc.get("name").asText().codePointCount(0, doc.get("name").asText().length()) <= 24, text);
                assertTrue(doc.get("pets").isArray() && doc.get("pets").size() <= 3, text);
                doc.get("pets").forEach(pet -> assertTrue(pet.isTextual() && pet.asText().length() <= 16, text));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anyObjectIsAnObject() throws Exception {
        ObjectNode body = JSON.createObjectNode();
        body.putArray("messages").addObject().put("role", "user")
                .put("content", "What is the capital of France? Answer as JSON with the key \"capital\".");
        body.put("max_tokens", 64).put("temperature", 0);
        body.set("json_schema", JSON.readTree("{\"type\": \"object\"}"));
        try (SseStream s = SseStream.post(url("/generate"), body.toString())) {
            List<SseStream.Event> events = s.rest();
            StringBuilder text = new StringBuilder();
            events.stream().filter(e -> e.name().equals("token")).forEach(e -> text.append(e.data().get("text").asText()));
            assertEquals("stop", events.get(events.size() - 1).data().get("finish_reason").asText(), text.toString());
            assertTrue(JSON.readTree(text.toString()).isObject(), text.toString());
        }
    }

    private static Response post(String body) {
        return given().contentType("application/json").body(body).post("/generate");
    }

    private static void problem(Response r, String detailPart) {
        r.then().statusCode(400).contentType(startsWith(Problem.MEDIA_TYPE))
                .body("type", equalTo("urn:cna:problem:invalid-request")).body("detail", containsString(detailPart));
    }

    @Test
    void unsupportedSchemasAndToolsWithoutTemplateSupportAre400() throws Exception {
        for (String keyword : List.of("pattern", "format", "minimum")) {
            String schema = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"" + keyword + "\":\"x\"}}}";
            problem(post(body("a cook", JSON.readTree(schema))), "json_schema: #/properties/a: the keyword '" + keyword + "' is not supported");
        }
        problem(post(body("a cook", JSON.readTree("{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"other.json#/x\"}}}"))),
                "only local references");
        problem(post(body("a cook", JSON.readTree("{\"type\":\"array\"}"))), "the root of the schema must be an object");
        String tool = "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\"}}}";
        problem(post("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[" + tool + "]}"),
                "this model's chat template does not support tools");
        problem(post("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[" + tool + "],\"tool_choice\":"
                + "{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}}"), "tool_choice names the function nope");
        problem(post("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tool_choice\":\"required\"}"), "tool_choice needs tools");
        problem(post("{\"prompt\":\"hi\",\"tools\":[" + tool + "]}"), "tools need messages");
        problem(post("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a b\"}}]}"),
                "tools[0] must be");
        // tool_choice none: the tools are not offered, so a template without tool support is fine
        given().contentType("application/json").body("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2,"
                + "\"tools\":[" + tool + "],\"tool_choice\":\"none\"}").post("/generate").then().statusCode(200);
    }
}
