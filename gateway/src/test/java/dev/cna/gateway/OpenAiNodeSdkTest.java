package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import static dev.cna.gateway.Platform.CHAT_KEY;

/**
 * The official openai-node SDK (npm {@code openai}), unchanged, against the gateway over the real services: whole and
 * streamed chat, steering as an extra body field, chat logprobs, a legacy completion with echo and logprobs, an error
 * whose exception carries the reason, the models (src/test/resources/sdk/openai_node_check.mjs). The test installs the
 * package with npm into {@code target/openai-node} (not globally) when it is not there yet; it needs node and npm.
 */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class OpenAiNodeSdkTest {
    /** The SDK version the test installs (npm's latest when this test was written). */
    static final String VERSION = "7.59.0";

    @Test
    void theOfficialNodeSdkChatsStreamsSteersScoresAndReadsErrors() throws Exception {
        Path dir = Path.of("target", "openai-node");
        if (!Files.isDirectory(dir.resolve("node_modules/openai"))) {
            Files.createDirectories(dir);
            SdkChecks.install(dir.toFile(), List.of("npm", "install", "--no-audit", "--no-fund", "--prefix", ".", "openai@" + VERSION));
        }
        // ESM resolves "openai" from the script's own directory
        Files.copy(Path.of("src/test/resources/sdk/openai_node_check.mjs"), dir.resolve("openai_node_check.mjs"),
                StandardCopyOption.REPLACE_EXISTING);
        String name = "node-sdk-" + System.nanoTime();
        Platform.publish(name, 1, Platform.circuit(name, 1, 5, 25, 143));
        JsonNode out = SdkChecks.run(dir.toFile(), List.of("node", "openai_node_check.mjs",
                "http://127.0.0.1:" + io.restassured.RestAssured.port, CHAT_KEY, name));

        SdkChecks.chat(out);
        SdkChecks.errorAndModels(out, Platform.steeringStatus().getString("model.id"));
        SdkChecks.chatLogprobs(out.get("chat_logprobs"));
        SdkChecks.echoedCompletion(out.get("completion"));
    }
}
