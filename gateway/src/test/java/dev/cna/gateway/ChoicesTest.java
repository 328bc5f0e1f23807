package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.cna.gateway.Platform.CHAT_KEY;
import static dev.cna.gateway.Platform.JSON;
import static dev.cna.gateway.Platform.chat;
import static dev.cna.gateway.Platform.url;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Chat completions with n choices on the real stack: indexed, seeded per choice, reproducible, streamed and whole. */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class ChoicesTest {
    private static final String PATH = "/v1/chat/completions";
    private static final String STORY = "Tell me a story about a cat.";

    private static JsonNode whole(String body) throws Exception {
        var r = given().auth().oauth2(CHAT_KEY).contentType(ContentType.JSON).body(body).post(PATH);
        assertEquals(200, r.statusCode(), r.asString());
        return JSON.readTree(r.asString());
    }

    private static List<String> texts(JsonNode completion) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < completion.get("choices").size(); i++) {
            assertEquals(i, completion.at("/choices/" + i + "/index").asInt());
            out.add(completion.at("/choices/" + i + "/message/content").asText());
        }
        return out;
    }

    @Test
    void seededChoicesDifferFromEachOtherAndRepeatExactly() throws Exception {
        String body = chat(STORY, 12, "\"n\": 3", "\"seed\": 42", "\"temperature\": 1.0");
        JsonNode first = whole(body);
        List<String> texts = texts(first);
        assertEquals(3, texts.size());
        assertEquals(3, new HashSet<>(texts).size(), "seed + i per choice: " + texts);
        assertEquals(texts, texts(whole(body)), "the same seeded request, the same choices");
        int completion = first.at("/usage/completion_tokens").asInt();
        assertTrue(completion >= 3 && completion <= 36, first.get("usage").toString());
        assertEquals(first.at("/usage/prompt_tokens").asInt() + completion, first.at("/usage/total_tokens").asInt());
    }

    @Test
    void streamedChoicesInterleaveWithTheirIndexAndEndOnce() throws Exception {
        List<SseStream.Event> events;
        try (SseStream s = SseStream.post(url(PATH), CHAT_KEY, chat(STORY, 8, "\"n\": 2", "\"seed\": 7", "\"temperature\": 1.0",
                "\"stream\": true", "\"stream_options\": {\"include_usage\": true}"))) {
            assertEquals(200, s.status());
            events = s.rest();
        }
        assertEquals("[DONE]", events.get(events.size() - 1).data());
        assertEquals(1, events.stream().filter(e -> e.data().equals("[DONE]")).count());
        StringBuilder[] text = {new StringBuilder(), new StringBuilder()};
        Set<String> ids = new HashSet<>();
        int finishes = 0;
        for (SseStream.Event e : events.subList(0, events.size() - 2)) {
            JsonNode chunk = JSON.readTree(e.data());
            ids.add(chunk.get("id").asText());
            int index = chunk.at("/choices/0/index").asInt();
            text[index].append(chunk.at("/choices/0/delta/content").asText(""));
            finishes += chunk.at("/choices/0/finish_reason").isNull() ? 0 : 1;
        }
        assertEquals(1, ids.size(), "one completion id");
        assertEquals(2, finishes, "a finish_reason per choice");
        JsonNode usage = JSON.readTree(events.get(events.size() - 2).data());
        assertEquals(16, usage.at("/usage/completion_tokens").asInt(), usage.toString());
        JsonNode same = whole(chat(STORY, 8, "\"n\": 2", "\"seed\": 7", "\"temperature\": 1.0"));
        assertEquals(List.of(text[0].toString(), text[1].toString()), texts(same), "streamed and whole agree");
        assertNotEquals(text[0].toString(), text[1].toString());
    }

    @Test
    void moreChoicesThanTheLimitAre400() {
        var r = given().auth().oauth2(CHAT_KEY).contentType(ContentType.JSON).body(chat(STORY, 4, "\"n\": 9")).post(PATH);
        assertEquals(400, r.statusCode());
        assertTrue(r.jsonPath().getString("error.message").contains("n must be an integer from 1 to 8"), r.asString());
        assertEquals("n", r.jsonPath().getString("error.param"));
    }
}
