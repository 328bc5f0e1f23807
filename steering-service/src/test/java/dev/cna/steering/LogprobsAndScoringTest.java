package dev.cna.steering;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.devstack.DevKafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.cna.steering.TestPlatform.JSON;
import static dev.cna.steering.TestPlatform.url;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Log-probabilities on the native stream, teacher-forced scoring (POST /score) agreeing with them, the sampling
 * controls, and a seeded request giving the same tokens alone and batched with other traffic; on the default model.
 */
@QuarkusTest
@QuarkusTestResource(DevKafkaTestResource.class)
class LogprobsAndScoringTest {
    private static final String QUESTION = "What is the capital of France?";

    @BeforeEach
    void ready() {
        TestPlatform.awaitReady();
    }

    private static ObjectNode body(String user, int maxTokens) {
        ObjectNode body = JSON.createObjectNode();
        body.putArray("messages").addObject().put("role", "user").put("content", user);
        body.put("max_tokens", maxTokens).put("temperature", 0);
        return body;
    }

    private static List<JsonNode> tokens(ObjectNode body) {
        try (SseStream s = SseStream.post(url("/generate"), body.toString())) {
            assertEquals(200, s.status);
            return s.rest().stream().filter(e -> e.name().equals("token")).map(SseStream.Event::data).toList();
        }
    }

    private static int[] ids(List<JsonNode> tokens) {
        return tokens.stream().filter(t -> t.has("token")).mapToInt(t -> t.get("token").asInt()).toArray();
    }

    @Test
    void greedyTokensCarryTheirLogprobAndTheMostLikelyAlternativesAndScoringAgrees() {
        String prompt = "The capital of France is";
        ObjectNode raw = JSON.createObjectNode().put("prompt", prompt).put("max_tokens", 12).put("temperature", 0).put("logprobs", 3);
        List<JsonNode> tokens = tokens(raw);
        List<JsonNode> withId = tokens.stream().filter(t -> t.has("token")).toList();
        assertTrue(withId.size() > 3);
        for (JsonNode t : withId) {
            JsonNode top = t.get("top_logprobs");
            assertEquals(3, top.size(), t.toString());
            assertEquals(t.get("token").asInt(), top.get(0).get("token").asInt(), "greedy takes the most likely");
            assertEquals(t.get("logprob").asDouble(), top.get(0).get("logprob").asDouble(), 1e-9);
            assertTrue(top.get(0).get("logprob").asDouble() >= top.get(1).get("logprob").asDouble());
            assertTrue(t.get("logprob").asDouble() <= 0);
            assertTrue(top.get(0).get("bytes").isArray() && top.get(0).has("text"));
        }
        tokens.stream().filter(t -> !t.has("token")).forEach(t -> assertFalse(t.has("logprob"), "the released text has none"));

        // the same tokens teacher-forced after the prompt (tokenized as /generate does)
        JsonNode promptScored = score(JSON.createObjectNode().set("prompts", JSON.createArrayNode().add(prompt)));
        ArrayNode all = JSON.createArrayNode();
        promptScored.at("/results/0/tokens").forEach(t -> all.add(t.get("token").asInt()));
        int promptLength = all.size();
        withId.forEach(t -> all.add(t.get("token").asInt()));
        ObjectNode forced = JSON.createObjectNode();
        forced.putArray("prompt_tokens").add(all);
        forced.put("top_logprobs", 2);
        JsonNode scored = score(forced).at("/results/0/tokens");
        assertTrue(scored.get(0).get("logprob").isNull(), "the first token has no logprob");
        for (int i = 0; i < withId.size(); i++) {
            assertEquals(withId.get(i).get("logprob").asDouble(), scored.get(promptLength + i).get("logprob").asDouble(), 1e-3,
                    "decode and teacher forcing agree at token " + i);
            assertEquals(2, scored.get(promptLength + i).get("top_logprobs").size());
        }
    }

    private static JsonNode score(ObjectNode body) {
        var r = given().contentType("application/json").body(body.toString()).post("/score");
        assertEquals(200, r.statusCode(), r.asString());
        try {
            return JSON.readTree(r.asString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void scoringSeveralPromptsAsOneBatchEqualsScoringEachAlone() {
        List<String> texts = List.of("The capital of France is Paris.", "Two plus two is four", "Hi");
        ObjectNode batch = JSON.createObjectNode();
        texts.forEach(batch.putArray("prompts")::add);
        JsonNode together = score(batch);
        for (int p = 0; p < texts.size(); p++) {
            ObjectNode one = JSON.createObjectNode();
            one.putArray("prompts").add(texts.get(p));
            JsonNode alone = score(one).at("/results/0/tokens");
            JsonNode inBatch = together.at("/results/" + p + "/tokens");
            assertEquals(alone.size(), inBatch.size());
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < alone.size(); i++) {
                text.append(inBatch.get(i).get("text").asText());
                if (i > 0) {
                    assertEquals(alone.get(i).get("logprob").asDouble(), inBatch.get(i).get("logprob").asDouble(), 1e-3);
                }
            }
            assertTrue(text.toString().endsWith(texts.get(p)), "token texts concatenate to the prompt: " + text);
        }
    }

    @Test
    void aSeededRequestGetsTheSameTokensAloneAndBatchedWithOtherTraffic() {
        ObjectNode seeded = body("Tell me a story about a cat.", 24).put("temperature", 1.0).put("seed", 1234);
        int[] alone = ids(tokens(seeded));
        // Three others decode while the seeded one joins: as many tokens as the service allows, closed after it.
        List<SseStream> others = new ArrayList<>();
        int[] batched;
        try {
            for (int i = 0; i < 3; i++) {
                ObjectNode other = body("Write a long poem number " + i + " about the sea.", 1024).put("temperature", 1.0);
                others.add(SseStream.post(url("/generate"), other.toString()));
            }
            others.forEach(o -> o.awaitToken(1));
            batched = ids(tokens(seeded));
            long ended = System.nanoTime();
            for (SseStream o : others) { // each ran from before the seeded request to after its end
                o.awaitEvent("a token after the seeded reply", e -> e.name().equals("token") && e.receivedNanos() > ended);
            }
        } finally {
            others.forEach(SseStream::close);
        }
        assertArrayEquals(alone, batched, "the seed alone decides the tokens");
        assertNotEquals(0, alone.length);
        int[] otherSeed = ids(tokens(seeded.deepCopy().put("seed", 4321)));
        assertFalse(java.util.Arrays.equals(alone, otherSeed), "another seed, another story");
    }

    @Test
    void logitBiasAndPenaltiesChangeWhatIsPicked() {
        int[] greedy = ids(tokens(body(QUESTION, 16)));
        ObjectNode banned = body(QUESTION, 16);
        banned.putObject("logit_bias").put(Integer.toString(greedy[0]), -100);
        assertNotEquals(greedy[0], ids(tokens(banned))[0], "a banned token is not picked");
        int[] penalized = ids(tokens(body(QUESTION, 16).put("repetition_penalty", 3.0).put("presence_penalty", 2.0)));
        assertFalse(java.util.Arrays.equals(greedy, penalized), "penalties change a greedy reply that repeats its prompt's words");
    }

    @Test
    void outOfRangeFieldsAre400sThatNameTheField() {
        for (String[] c : new String[][] {
                {"\"logprobs\": 21", "logprobs must be 0 to 20"},
                {"\"presence_penalty\": 2.5", "presence_penalty must be -2 to 2"},
                {"\"frequency_penalty\": -3", "frequency_penalty must be -2 to 2"},
                {"\"repetition_penalty\": 0", "repetition_penalty must be > 0"},
                {"\"min_p\": 1.5", "min_p must be 0 to 1"},
                {"\"logit_bias\": {\"999999\": 5}", "logit_bias has token 999999"},
                {"\"logit_bias\": {\"1\": 101}", "logit_bias of token 1 must be -100 to 100"},
                {"\"logit_bias\": {\"x\": 1}", "logit_bias keys must be token ids"}}) {
            String body = "{\"prompt\": \"Hi\", \"max_tokens\": 2, " + c[0] + "}";
            var r = given().contentType("application/json").body(body).post("/generate");
            assertEquals(400, r.statusCode(), body);
            assertTrue(r.jsonPath().getString("detail").contains(c[1]), r.asString());
        }
        var both = given().contentType("application/json").body("{\"prompt\": \"Hi\", \"prompt_tokens\": [1, 2]}").post("/generate");
        assertEquals(400, both.statusCode());
        var outside = given().contentType("application/json").body("{\"prompt_tokens\": [[1, 99999999]]}").post("/score");
        assertEquals(400, outside.statusCode());
        assertTrue(outside.jsonPath().getString("detail").contains("prompt_tokens[0][1] must be a token id"), outside.asString());
        var tooMany = given().contentType("application/json").body("{\"prompts\": [\"a\"], \"top_logprobs\": 21}").post("/score");
        assertEquals(400, tooMany.statusCode());
        var none = given().contentType("application/json").body("{\"prompts\": []}").post("/score");
        assertEquals(400, none.statusCode());
    }
}
