package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.cna.gateway.Platform.CHAT_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official openai-python SDK (PyPI {@code openai}, installed by {@code ./cna test}), unchanged, against the gateway
 * over the real services: whole and streamed chat, steering through {@code extra_body}, the model list, and errors
 * whose exception carries the reason (src/test/resources/sdk/openai_python_check.py).
 */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class OpenAiPythonSdkTest {
    @Test
    void theOfficialPythonSdkChatsStreamsSteersAndReadsErrors() throws Exception {
        String name = "sdk-" + System.nanoTime();
        Platform.publish(name, 1, Platform.circuit(name, 1, 5, 25, 143));
        JsonNode out = run(Path.of("src/test/resources/sdk/openai_python_check.py"),
                "http://127.0.0.1:" + io.restassured.RestAssured.port, CHAT_KEY, name);

        assertTrue(out.at("/whole/text").asText().contains("Paris"), out.toString());
        assertEquals(out.at("/whole/text").asText(), out.at("/streamed/text").asText(), "greedy: stream and whole agree");
        assertEquals(out.at("/whole/finish_reason").asText(), out.at("/streamed/finish_reason").asText(), out.toString());
        assertTrue(List.of("stop", "length").contains(out.at("/whole/finish_reason").asText()), out.toString());
        assertTrue(out.at("/whole/completion_tokens").asInt() > 0);
        assertNotEquals(out.get("unsteered").asText(), out.get("steered").asText(), "extra_body steering changes the reply");

        JsonNode error = out.get("error");
        assertEquals(400, error.get("status").asInt(), out.toString());
        assertTrue(error.get("message").asText().contains("max_tokens must be 1 to"), error.toString());
        assertEquals("max_tokens", error.get("param").asText());
        assertEquals("invalid-request", error.get("code").asText());
        assertEquals(401, out.at("/auth_error/status").asInt(), out.toString());
        assertTrue(out.at("/auth_error/message").asText().contains("API key"), out.toString());
        assertEquals(List.of(Platform.steeringStatus().getString("model.id")),
                List.of(out.get("models").get(0).asText()));
        assertFalse(out.get("sdk").asText().isEmpty());
    }

    /** Runs the script with python3 and returns the JSON line it prints; its stderr goes to the test log. */
    static JsonNode run(Path script, String... args) throws IOException, InterruptedException {
        Path stdout = Files.createTempFile("openai-sdk", ".json");
        List<String> command = new java.util.ArrayList<>(List.of("python3", script.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the SDK script did not finish");
        String text = Files.readString(stdout, StandardCharsets.UTF_8).trim();
        assertEquals(0, p.exitValue(), "the SDK script failed (is the openai package installed? ./cna test installs it): " + text);
        return Platform.JSON.readTree(text);
    }
}
