package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the official-SDK scripts (src/test/resources/sdk) print, run and checked the same way for every SDK: each
 * prints one JSON object of what its unchanged client saw.
 */
final class SdkChecks {
    private SdkChecks() {}

    /** Runs the command in the directory and returns the JSON line it prints; its stderr goes to the test log. */
    static JsonNode run(File directory, List<String> command) throws IOException, InterruptedException {
        Path stdout = Files.createTempFile("openai-sdk", ".json");
        Process p = new ProcessBuilder(command).directory(directory).redirectOutput(stdout.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the SDK script did not finish");
        String text = Files.readString(stdout, StandardCharsets.UTF_8).trim();
        assertEquals(0, p.exitValue(), "the SDK script failed: " + text);
        return Platform.JSON.readTree(text);
    }

    /** Runs an installer (npm) in the directory; its output goes to the test log. */
    static void install(File directory, List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(directory).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the install did not finish: " + command);
        assertEquals(0, p.exitValue(), "the install failed: " + command);
    }

    /** Whole and streamed greedy chat agree and name Paris; steering through the extension changes the reply. */
    static void chat(JsonNode out) {
        assertTrue(out.at("/whole/text").asText().contains("Paris"), out.toString());
        assertEquals(out.at("/whole/text").asText(), out.at("/streamed/text").asText(), "greedy: stream and whole agree");
        assertEquals(out.at("/whole/finish_reason").asText(), out.at("/streamed/finish_reason").asText(), out.toString());
        assertTrue(List.of("stop", "length").contains(out.at("/whole/finish_reason").asText()), out.toString());
        assertNotEquals(out.get("unsteered").asText(), out.get("steered").asText(), "extension steering changes the reply");
        assertFalse(out.get("sdk").asText().isEmpty());
    }

    /** A 400 whose exception carries the reason, the field and the code; the served model listed and retrieved. */
    static void errorAndModels(JsonNode out, String servedModel) {
        JsonNode error = out.get("error");
        assertEquals(400, error.get("status").asInt(), out.toString());
        assertTrue(error.get("message").asText().contains("max_tokens must be 1 to"), error.toString());
        assertEquals("max_tokens", error.get("param").asText());
        assertEquals("invalid-request", error.get("code").asText());
        assertEquals(List.of(servedModel), List.of(out.get("models").get(0).asText()));
        assertEquals(servedModel, out.get("model").asText());
    }

    /** Greedy chat log-probabilities: each token the most likely of its top 3, its bytes its text's. */
    static void chatLogprobs(JsonNode entries) {
        assertTrue(entries.size() > 1, entries.toString());
        for (JsonNode e : entries) {
            assertTrue(e.get("logprob").asDouble() <= 0, e.toString());
            assertEquals(3, e.get("top").size(), e.toString());
            assertEquals(e.get("token").asText(), e.at("/top/0/token").asText(), "greedy picks the most likely: " + e);
            assertEquals(e.get("logprob").asDouble(), e.at("/top/0/logprob").asDouble(), 1e-9);
            assertTrue(e.at("/top/0/logprob").asDouble() >= e.at("/top/1/logprob").asDouble());
            byte[] bytes = new byte[e.get("bytes").size()];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) e.get("bytes").get(i).asInt();
            }
            assertEquals(e.get("token").asText(), new String(bytes, StandardCharsets.UTF_8));
        }
    }

    /**
     * A legacy completion of "The capital of France is" with echo and logprobs 2: the text starts with the prompt,
     * the first prompt token has null logprob and top, every other position its alternatives (and the chosen token),
     * offsets count the tokens' characters.
     */
    static void echoedCompletion(JsonNode c) {
        String text = c.get("text").asText();
        assertTrue(text.startsWith("The capital of France is") && text.length() > "The capital of France is".length(), text);
        JsonNode tokens = c.get("tokens");
        assertTrue(c.get("token_logprobs").get(0).isNull(), c.toString());
        assertTrue(c.get("top_logprobs").get(0).isNull(), c.toString());
        StringBuilder joined = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) {
            assertEquals(joined.length(), c.get("text_offset").get(i).asInt(), "offset of token " + i);
            joined.append(tokens.get(i).asText());
            if (i > 0) {
                assertTrue(c.get("token_logprobs").get(i).asDouble() <= 0);
                int alternatives = c.get("top_logprobs").get(i).size();
                assertTrue(alternatives >= 2 && alternatives <= 3, c.get("top_logprobs").get(i).toString());
            }
        }
        assertEquals(text, joined.toString(), "the tokens make the text");
    }
}
