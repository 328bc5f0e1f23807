package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import dev.cna.devstack.DevKafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ingest over real HTTP into a real in-JVM Kafka broker; the records are read back and checked against the schema. */
@QuarkusTest
@QuarkusTestResource(value = DevKafkaTestResource.class, restrictToAnnotatedClass = true)
class IngestTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static JsonSchema schema;

    @BeforeAll
    static void loadSchema() throws Exception {
        try (InputStream in = Files.newInputStream(Path.of("..", "docs", "schemas", "prompt-pairs.v1.schema.json"))) {
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        }
    }

    @Test
    void oneEventIsProducedKeyedByFeatureAndValid() throws Exception {
        String body = """
                {"positive": ["Bonjour, comment ça va ?", "Quelle heure est-il ?"],
                 "negative": ["Hello, how are you?", "What time is it?"],
                 "chatTemplate": false, "options": {"topK": 20, "excludeLayers": [0, 1, 2]}, "ignored": 1}""";
        JsonPath answer = ingest("test-admin", "french", body);
        List<String> ids = answer.getList("ids");
        assertEquals(1, ids.size());
        assertEquals("french", answer.getString("feature"));
        assertEquals("cna.prompt-pairs", answer.getString("topic"));

        ConsumerRecord<String, String> record = read(answer, 1).get(0);
        assertEquals("french", record.key());
        JsonNode event = valid(record.value());
        assertEquals("cna.prompt-pairs/v1", event.get("schema").asText());
        assertEquals(ids.get(0), event.get("id").asText());
        UUID.fromString(event.get("id").asText());
        assertEquals("pairs", event.get("type").asText());
        assertEquals("french", event.get("feature").asText());
        assertEquals(List.of("Bonjour, comment ça va ?", "Quelle heure est-il ?"), texts(event.get("positive")));
        assertEquals(List.of("Hello, how are you?", "What time is it?"), texts(event.get("negative")));
        assertFalse(event.get("chatTemplate").asBoolean());
        assertEquals(20, event.get("options").get("topK").asInt());
        assertEquals("[0,1,2]", event.get("options").get("excludeLayers").toString());
        assertTrue(Instant.parse(event.get("producedAt").asText()).isAfter(Instant.now().minusSeconds(60)));
        assertFalse(event.has("ignored"));
    }

    @Test
    void aListGivesOneEventEachInOrderAndAResetHasNoPrompts() throws Exception {
        String body = """
                [{"positive": ["p1"], "negative": ["n1"]},
                 {"type": "reset"},
                 {"type": "pairs", "positive": ["p2"], "negative": ["n2"], "options": null}]""";
        JsonPath answer = ingest("test-admin", "refusal.v2", body);
        List<String> ids = answer.getList("ids");
        assertEquals(3, ids.size());
        assertEquals(3, ids.stream().distinct().count());

        List<ConsumerRecord<String, String>> records = read(answer, 3);
        assertEquals(3, records.size());
        for (int i = 0; i < 3; i++) {
            assertEquals("refusal.v2", records.get(i).key());
            assertEquals(ids.get(i), valid(records.get(i).value()).get("id").asText());
        }
        JsonNode reset = JSON.readTree(records.get(1).value());
        assertEquals("reset", reset.get("type").asText());
        assertFalse(reset.has("positive") || reset.has("negative") || reset.has("options"));
        JsonNode last = JSON.readTree(records.get(2).value());
        assertEquals(List.of("p2"), texts(last.get("positive")));
        assertFalse(last.has("options"));
    }

    @Test
    void anAdminKeyFromConfigMayIngest() throws Exception {
        JsonPath answer = ingest("config-admin", "from-config", "{\"positive\":[\"a\"],\"negative\":[\"b\"]}");
        assertEquals("from-config", read(answer, 1).get(0).key());
    }

    @Test
    void theSchemaCheckCanFail() throws Exception {
        // guards the validity checks above: an event the schema must reject
        assertFalse(schema.validate(JSON.readTree("{\"schema\":\"cna.prompt-pairs/v1\",\"id\":\"x\",\"feature\":\"f\"}"))
                .isEmpty());
    }

    private static JsonPath ingest(String key, String feature, String body) {
        return given().auth().oauth2(key).contentType(ContentType.JSON).body(body)
                .post("/api/features/{name}/pairs", feature)
                .then().statusCode(202).contentType(ContentType.JSON)
                .extract().jsonPath();
    }

    private static List<ConsumerRecord<String, String>> read(JsonPath answer, int count) {
        return EventRecords.read(answer.getInt("partition"), answer.getLong("offset"), count);
    }

    private static JsonNode valid(String value) throws Exception {
        JsonNode node = JSON.readTree(value);
        var errors = schema.validate(node);
        assertTrue(errors.isEmpty(), "schema: " + errors);
        return node;
    }

    private static List<String> texts(JsonNode array) {
        return JSON.convertValue(array, JSON.getTypeFactory().constructCollectionType(List.class, String.class));
    }
}
