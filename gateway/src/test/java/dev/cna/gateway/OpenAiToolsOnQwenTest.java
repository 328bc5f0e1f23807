package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.List;

import static dev.cna.gateway.Platform.CHAT_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tools and structured output through the official openai-python SDK, unchanged, on a tool-capable model
 * (Qwen2.5-Coder-1.5B-Instruct, {@code ./cna model pull qwen2.5-coder-1.5b}; src/test/resources/sdk/
 * openai_python_tools_check.py): a required call (whole), a named call streamed as deltas, the call's result sent back
 * and answered in text, a json_schema reply, and an unsupported schema keyword refused with its name. (With
 * {@code auto} this 1.5B coder model often writes its call as a ```json block instead of its template's
 * {@code <tool_call>} tags; that reply comes back as content, so auto is not asserted here.)
 */
@QuarkusTest
@WithTestResource(RefusalOnQwenTest.QwenStack.class)
class OpenAiToolsOnQwenTest {
    @Test
    void theOfficialPythonSdkCallsToolsAndGetsJson() throws Exception {
        JsonNode out = SdkChecks.run(new File("."), List.of("python3", "src/test/resources/sdk/openai_python_tools_check.py",
                "http://127.0.0.1:" + io.restassured.RestAssured.port, CHAT_KEY));

        JsonNode required = out.get("required");
        assertEquals("tool_calls", required.get("finish_reason").asText(), out.toString());
        assertEquals("get_weather", required.at("/calls/0/name").asText(), out.toString());
        assertTrue(required.at("/calls/0/id").asText().startsWith("call_"), out.toString());
        assertTrue(Platform.JSON.readTree(required.at("/calls/0/arguments").asText()).get("city").asText().contains("Paris"), out.toString());

        JsonNode streamed = out.get("streamed");
        assertEquals("tool_calls", streamed.get("finish_reason").asText(), out.toString());
        assertEquals(1, streamed.get("calls").size(), out.toString());
        assertEquals("get_weather", streamed.at("/calls/0/name").asText());
        JsonNode args = Platform.JSON.readTree(streamed.at("/calls/0/arguments").asText());
        assertTrue(args.get("city").isTextual(), out.toString());
        assertTrue(args.size() <= 2 && (!args.has("unit") || args.get("unit").asText().matches("celsius|fahrenheit")), out.toString());
        assertEquals("", streamed.get("content").asText(), "a forced call has no text around it");

        JsonNode answer = out.get("answer");
        assertEquals("stop", answer.get("finish_reason").asText(), out.toString());
        String said = answer.get("content").asText().toLowerCase(java.util.Locale.ROOT);
        assertTrue(said.contains("18") || said.contains("sunny"), "the answer uses the tool's result: " + out);

        JsonNode json = Platform.JSON.readTree(out.at("/json/content").asText());
        assertEquals("stop", out.at("/json/finish_reason").asText(), out.toString());
        assertEquals(3, json.size(), out.toString());
        assertTrue(json.get("city").isTextual() && json.get("country").isTextual() && json.get("population_millions").isNumber(), out.toString());

        assertEquals(400, out.at("/schema_error/status").asInt(), out.toString());
        assertTrue(out.at("/schema_error/message").asText().contains("the keyword 'format' is not supported"), out.toString());
        assertFalse(out.get("sdk").asText().isEmpty());
    }
}
