package dev.cna.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The records' JSON is the documented wire format: the schemas in docs/schemas and the READMEs' examples. */
class WireFormatTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonSchema promptPairsSchema() throws Exception {
        try (InputStream in = Files.newInputStream(Path.of("..", "docs", "schemas", "prompt-pairs.v1.schema.json"))) {
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        }
    }

    @Test
    void promptPairEventsMatchTheSchema() throws Exception {
        JsonSchema schema = promptPairsSchema();
        PromptPairEvent pairs = new PromptPairEvent(PromptPairEvent.SCHEMA, "id-1", PromptPairEvent.Type.PAIRS, "french",
                List.of("Bonjour"), List.of("Hello"), false, new PromptPairEvent.Options(20, List.of(0, 1)),
                "2026-01-01T00:00:00Z");
        PromptPairEvent reset = new PromptPairEvent(PromptPairEvent.SCHEMA, "id-2", PromptPairEvent.Type.RESET, "french",
                null, null, null, null, "2026-01-01T00:00:00Z");
        for (PromptPairEvent event : List.of(pairs, reset)) {
            JsonNode tree = JSON.valueToTree(event);
            assertEquals(Set.of(), schema.validate(tree), tree::toString);
            assertEquals(event, JSON.readValue(tree.toString(), PromptPairEvent.class));
        }
        JsonNode tree = JSON.valueToTree(pairs);
        assertEquals("pairs", tree.get("type").asText());
        assertEquals(Set.of("schema", "id", "type", "feature", "positive", "negative", "chatTemplate", "options", "producedAt"),
                fieldNames(tree), "no derived accessor is written");
        assertEquals(Set.of("schema", "id", "type", "feature", "producedAt"), fieldNames(JSON.valueToTree(reset)),
                "absent fields are left out");
    }

    @Test
    void readingIgnoresUnknownFieldsButNotUnknownOptions() throws Exception {
        PromptPairEvent e = JSON.readValue("""
                {"schema": "cna.prompt-pairs/v1", "id": "x", "feature": "f", "positive": ["a"], "negative": ["b"],
                 "future": 1, "options": {"topK": 5}}""", PromptPairEvent.class);
        assertNull(e.type(), "absent type: the consumer's default (pairs)");
        assertEquals(5, e.topK());
        assertNull(e.excludeLayers());
        assertThrows(UnrecognizedPropertyException.class, () -> JSON.readValue("""
                {"schema": "cna.prompt-pairs/v1", "id": "x", "feature": "f", "options": {"topk": 5}}""", PromptPairEvent.class));
    }

    @Test
    void attributionServicesShapeIsTheSameEvent() throws Exception {
        PromptPairEvent validated = new PromptPairEvent("id-1", PromptPairEvent.Type.PAIRS, "french", List.of("Bonjour"),
                List.of("Hello"), true, 20, new TreeSet<>(Set.of(1, 0)), null);
        assertEquals(PromptPairEvent.SCHEMA, validated.schema());
        assertEquals(20, validated.topK());
        assertEquals(new TreeSet<>(Set.of(0, 1)), validated.excludeLayers());
        assertTrue(validated.chatTemplate());
        assertEquals(new PromptPairEvent.Options(20, List.of(0, 1)), validated.options());
        assertEquals(Set.of(), promptPairsSchema().validate(JSON.valueToTree(validated)));

        PromptPairEvent noOptions = new PromptPairEvent("id-2", PromptPairEvent.Type.RESET, "french", List.of(), List.of(),
                true, null, null, null);
        assertNull(noOptions.options());
        assertNull(noOptions.topK());
        assertNull(noOptions.excludeLayers());
    }

    @Test
    void generateRequestsLeaveOutWhatIsAbsent() throws Exception {
        GenerateRequest r = new GenerateRequest(null, List.of(new GenerateRequest.Message("user", "hi")), 8, 0.0, null, null,
                null, null, List.of(new GenerateRequest.Steering("french", 0.3)), GenerateRequest.LIVE);
        assertEquals(JSON.readTree("""
                {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 8, "temperature": 0.0,
                 "steering": [{"circuit": "french", "multiplier": 0.3}], "steering_mode": "live"}"""), JSON.valueToTree(r));
        assertEquals(r, JSON.readValue(JSON.writeValueAsString(r), GenerateRequest.class));
    }

    @Test
    void streamEventsReadAndWriteAsSteeringServiceDocumentsThem() throws Exception {
        Map<String, String> examples = Map.of(
                StreamEvent.TOKEN, "{\"index\":0,\"token\":504,\"text\":\"The\",\"circuits\":{\"french\":3}}",
                StreamEvent.CIRCUIT, "{\"index\":7,\"circuit\":\"french\",\"from\":3,\"to\":null}",
                StreamEvent.DONE, "{\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":37,\"completion_tokens\":9,"
                        + "\"total_tokens\":46},\"timings\":{\"queue_ms\":0.4,\"prefill_ms\":35.1,\"decode_ms\":301.2,"
                        + "\"tokens_per_second\":29.9},\"circuits\":{\"french\":4}}",
                StreamEvent.ERROR, "{\"title\":\"generation failed\",\"detail\":\"out of memory\"}");
        for (var example : examples.entrySet()) {
            StreamEvent event = JSON.readValue(example.getValue(), StreamEvent.TYPES.get(example.getKey()));
            assertEquals(example.getKey(), event.name());
            assertEquals(JSON.readTree(example.getValue()), JSON.readTree(JSON.writeValueAsString(event)),
                    "no name field, nulls as documented");
        }
        StreamEvent.Token released = new StreamEvent.Token(3, null, "!", Map.of());
        assertFalse(JSON.valueToTree(released).has("token"), "the released text has no token id");
        StreamEvent.Token tolerant = JSON.readValue("{\"index\":1,\"text\":\"a\",\"future\":-0.1}", StreamEvent.Token.class);
        assertEquals(new StreamEvent.Token(1, null, "a", null), tolerant);
        String withLogprobs = "{\"index\":0,\"token\":504,\"text\":\"The\",\"circuits\":{},\"logprob\":-0.25,"
                + "\"top_logprobs\":[{\"token\":504,\"text\":\"The\",\"bytes\":[84,104,101],\"logprob\":-0.25}]}";
        StreamEvent.Token token = JSON.readValue(withLogprobs, StreamEvent.Token.class);
        assertEquals(List.of(84, 104, 101), token.topLogprobs().get(0).bytes());
        assertEquals(JSON.readTree(withLogprobs), JSON.valueToTree(token), "the shared contract's field names");
    }

    @Test
    void problemsAreUrnTyped() throws Exception {
        Problem p = Problem.of(ProblemType.QUEUE_FULL, "all rows are busy").at("/generate");
        assertEquals(JSON.readTree("""
                {"type": "urn:cna:problem:queue-full", "title": "Queue Full", "status": 429, "detail": "all rows are busy",
                 "instance": "/generate"}"""), JSON.valueToTree(p));
        assertEquals(p, JSON.readValue(JSON.writeValueAsString(p), Problem.class));
        assertEquals("method-not-allowed", Problem.slugOf("Method Not Allowed"));
        for (ProblemType t : ProblemType.values()) {
            assertEquals(Problem.slugOf(t.slug()), t.slug(), "slugs are kebab-case: " + t);
        }
        assertFalse(JSON.valueToTree(Problem.of(404, "not-found", "Not Found", "x")).has("instance"));
    }

    @Test
    void topicsHaveTheirPolicies() {
        assertEquals(Set.of(Topics.PROMPT_PAIRS, Topics.CIRCUITS, Topics.DLQ), Topics.CONFIGS.keySet());
        assertEquals("compact", Topics.CIRCUITS_CONFIG.get(Topics.CLEANUP_POLICY));
        assertEquals("-1", Topics.PROMPT_PAIRS_CONFIG.get(Topics.RETENTION_MS));
        assertEquals(Topics.PROMPT_PAIRS_CONFIG.get(Topics.RETENTION_MS), Topics.DLQ_CONFIG.get(Topics.RETENTION_MS),
                "the DLQ keeps as much as the topic it guards");
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
