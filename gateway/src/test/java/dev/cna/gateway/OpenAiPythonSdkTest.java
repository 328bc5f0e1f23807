package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.List;

import static dev.cna.gateway.Platform.CHAT_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official openai-python SDK (PyPI {@code openai}, installed by {@code ./cna test}), unchanged, against the gateway
 * over the real services: whole and streamed chat, steering through {@code extra_body}, the models, errors whose
 * exception carries the reason, chat logprobs whole and streamed, and a legacy completion with echo and logprobs
 * (src/test/resources/sdk/openai_python_check.py).
 */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class OpenAiPythonSdkTest {
    @Test
    void theOfficialPythonSdkChatsStreamsSteersScoresAndReadsErrors() throws Exception {
        String name = "sdk-" + System.nanoTime();
        Platform.publish(name, 1, Platform.circuit(name, 1, 5, 25, 143));
        JsonNode out = SdkChecks.run(new File("."), List.of("python3", "src/test/resources/sdk/openai_python_check.py",
                "http://127.0.0.1:" + io.restassured.RestAssured.port, CHAT_KEY, name));

        SdkChecks.chat(out);
        assertTrue(out.at("/whole/completion_tokens").asInt() > 0);
        SdkChecks.errorAndModels(out, Platform.steeringStatus().getString("model.id"));
        assertEquals(401, out.at("/auth_error/status").asInt(), out.toString());
        assertTrue(out.at("/auth_error/message").asText().contains("API key"), out.toString());

        SdkChecks.chatLogprobs(out.get("chat_logprobs"));
        assertEquals(out.get("chat_logprobs"), out.get("streamed_logprobs"), "streamed and whole logprobs agree");
        SdkChecks.echoedCompletion(out.get("completion"));
        assertEquals(out.at("/completion/text").asText(), out.get("streamed_completion").asText(), "greedy: stream and whole agree");
        assertEquals(out.at("/completion/tokens").size(),
                out.at("/completion/prompt_tokens").asInt() + out.at("/completion/completion_tokens").asInt(),
                "echoed prompt tokens plus generated ones");
        assertEquals(400, out.at("/suffix_error/status").asInt(), out.toString());
        assertTrue(out.at("/suffix_error/message").asText().contains("suffix is not supported"), out.toString());
    }
}
