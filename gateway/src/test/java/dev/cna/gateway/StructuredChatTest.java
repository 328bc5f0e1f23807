package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static dev.cna.gateway.Platform.CHAT_KEY;
import static dev.cna.gateway.Platform.JSON;
import static dev.cna.gateway.Platform.chat;
import static dev.cna.gateway.Platform.url;
import static dev.cna.gateway.Problems.assertProblem;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * response_format, tools and tool_choice on /v1/chat/completions over the real services and the default model (whose
 * template has no tool support): JSON replies streamed and whole, and every refusal in OpenAI's envelope (problem+json
 * on the native /api/generate).
 */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class StructuredChatTest {
    private static final String PATH = "/v1/chat/completions";
    private static final String ASK = "What is the capital of France? Answer in JSON with the key capital.";
    private static final String SCHEMA = "{\"type\": \"object\", \"properties\": {\"capital\": {\"type\": \"string\", "
            + "\"maxLength\": 30}, \"population\": {\"type\": \"integer\"}}, \"required\": [\"capital\", \"population\"], "
            + "\"additionalProperties\": false}";
    private static final String TOOL = "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", "
            + "\"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}}}";

    private static Response post(String body) {
        return given().auth().oauth2(CHAT_KEY).contentType(ContentType.JSON).body(body).post(PATH);
    }

    @Test
    void jsonObjectAndJsonSchemaRepliesParse() throws Exception {
        String object = post(chat(ASK, 48, "\"response_format\": {\"type\": \"json_object\"}")).then().statusCode(200)
                .extract().path("choices[0].message.content");
        assertTrue(JSON.readTree(object).isObject(), object);

        StringBuilder text = new StringBuilder();
        String finish = null;
        try (SseStream s = SseStream.post(url(PATH), CHAT_KEY, chat(ASK, 48, "\"stream\": true",
                "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"city\", \"strict\": true, \"schema\": "
                        + SCHEMA + "}}"))) {
            for (SseStream.Event e : s.rest()) {
                if (!e.data().equals("[DONE]")) {
                    JsonNode chunk = JSON.readTree(e.data());
                    text.append(chunk.at("/choices/0/delta/content").asText(""));
                    finish = chunk.at("/choices/0/finish_reason").isNull() ? finish : chunk.at("/choices/0/finish_reason").asText();
                }
            }
        }
        assertEquals("stop", finish, text.toString());
        JsonNode doc = JSON.readTree(text.toString());
        assertEquals(List.of("capital", "population"), List.copyOf(iterable(doc.fieldNames())).stream().sorted().toList(), text.toString());
        assertTrue(doc.get("capital").isTextual() && doc.get("population").isIntegralNumber(), text.toString());
    }

    private static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"response_format\": {\"type\": \"xml\"}|response_format.type must be text, json_object or json_schema",
            "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"schema\": {}}}|response_format.json_schema must be",
            "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"x\", \"schema\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\", \"pattern\": \"^a\"}}}}}|the keyword 'pattern' is not supported",
            "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"x\", \"schema\": {\"type\": \"object\", \"allOf\": [{}]}}}|the keyword 'allOf' is not supported",
            "\"tools\": [" + TOOL + "]|this model's chat template does not support tools",
            "\"tools\": {}|tools must be a list",
            "\"tools\": [" + TOOL + "], \"tool_choice\": 3|tool_choice must be none, auto, required",
            "\"tool_choice\": \"required\"|tool_choice needs tools",
            "\"functions\": [{\"name\": \"f\"}]|functions is OpenAI's deprecated form",
            "\"tools\": [" + TOOL + "], \"response_format\": {\"type\": \"json_object\"}|json_schema and tools cannot be combined",
    })
    void unsupportedStructureIs400InOpenAisEnvelope(String extra, String detail) {
        assertProblem(post(chat(ASK, 8, extra)), 400, "invalid-request", PATH, detail);
    }

    @Test
    void toolMessagesAreChecked() {
        assertProblem(post("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"tool\", \"content\": \"18\"}]}"),
                400, "invalid-request", PATH, "messages[1].tool_call_id must be the id of the call");
        assertProblem(post("{\"messages\": [{\"role\": \"assistant\", \"tool_calls\": [{\"id\": \"c\", \"type\": \"function\", "
                + "\"function\": {\"name\": \"f\"}}]}]}"), 400, "invalid-request", PATH, "messages[0].tool_calls[0] must be");
    }

    @Test
    void nativeGenerateAnswersProblems() {
        assertProblem(given().auth().oauth2(CHAT_KEY).contentType(ContentType.JSON)
                        .body("{\"prompt\": \"hi\", \"json_schema\": {\"type\": \"object\", \"properties\": {\"a\": {\"format\": \"email\"}}}}")
                        .post("/api/generate"), 400, "invalid-request", "/api/generate",
                "json_schema: #/properties/a: the keyword 'format' is not supported");
    }
}
