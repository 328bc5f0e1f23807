package dev.cna.gateway;

import dev.cna.devstack.KafkaClients;
import dev.cna.devstack.PlatformTopics;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Future;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bad-input part of the reliability suite that fits in CI, against the real services: 1,000 malformed HTTP
 * bodies (chat, generate, ingest, manual circuit, detectors) get a 4xx problem each (never a 5xx), 1,000 malformed prompt-pair events all land in the DLQ with a
 * reason, and everything still works afterwards.
 */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class BadInputTest {
    private static final String ADMIN_KEY = "test-admin";
    private static final int COUNT = 1000;

    /** Bodies that are never a valid request: broken JSON, wrong types, missing or contradictory fields. */
    private static String malformed(Random random, int i) {
        String text = randomText(random);
        return switch (i % 10) {
            case 0 -> text;                                                            // not JSON
            case 1 -> "{\"messages\": [{\"role\": \"user\", \"content\": " + Platform.quote(text);   // truncated
            case 2 -> "[" + random.nextInt() + "]";                                      // wrong top-level type
            case 3 -> "{\"messages\": " + random.nextInt() + "}";                        // wrong field type
            case 4 -> "{\"messages\": [{\"role\": " + Platform.quote(text) + ", \"content\": \"x\"}]}"; // bad role
            case 5 -> "{\"messages\": [], \"max_tokens\": " + random.nextInt(1000) + "}"; // empty chat
            case 6 -> "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": " + (-1 - random.nextInt(1000)) + "}";
            case 7 -> "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"steering\": [{\"circuit\": "
                    + Platform.quote("bad name " + text) + ", \"multiplier\": 1}]}";
            case 8 -> "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n\": " + (2 + random.nextInt(9)) + "}";
            default -> "\u0000\u00ff" + text + "\"}}]]";
        };
    }

    private static String randomText(Random random) {
        StringBuilder b = new StringBuilder();
        int n = 1 + random.nextInt(40);
        for (int k = 0; k < n; k++) {
            b.appendCodePoint(random.nextInt(4) == 0 ? 0x80 + random.nextInt(0x2000) : 0x20 + random.nextInt(0x5f));
        }
        return b.toString();
    }

    @Test
    void aThousandMalformedBodiesGetA4xxProblemEach() {
        Random random = new Random(7);
        Map<Integer, Integer> statuses = new HashMap<>();
        String[] targets = {"/v1/chat/completions", "/api/generate", "/api/features/bad-input/pairs", "/api/circuits/bad-input",
                "/api/eval/detect"};
        for (int i = 0; i < COUNT; i++) {
            String path = targets[i % targets.length];
            boolean admin = path.startsWith("/api/features") || path.startsWith("/api/circuits");
            var request = given().auth().oauth2(admin ? ADMIN_KEY : Platform.CHAT_KEY).contentType("application/json")
                    .body(malformed(random, i));
            Response r = path.startsWith("/api/circuits") ? request.put(path) : request.post(path);
            statuses.merge(r.statusCode(), 1, Integer::sum);
            assertTrue(r.statusCode() >= 400 && r.statusCode() < 500, "request " + i + " to " + path + ": " + r.statusCode()
                    + " " + r.asString());
            if (path.startsWith("/v1/")) { // OpenAI's error envelope, with the reason in its message
                assertTrue(r.contentType().startsWith("application/json"), "request " + i + ": " + r.contentType());
                assertTrue(!r.jsonPath().getString("error.message").isEmpty(), "request " + i + ": " + r.asString());
            } else {
                assertTrue(r.contentType().startsWith("application/problem+json"), "request " + i + ": " + r.contentType());
            }
        }
        assertEquals(COUNT, statuses.values().stream().mapToInt(Integer::intValue).sum(), statuses.toString());
        // still serving
        given().auth().oauth2(Platform.CHAT_KEY).contentType("application/json").body(Platform.chat("Say hi.", 4))
                .post("/v1/chat/completions").then().statusCode(200);
        given().auth().oauth2(Platform.CHAT_KEY).get("/api/circuits/bad-input").then().statusCode(404); // none was published
    }

    @Test
    void aThousandMalformedEventsAllReachTheDlqWithAReason() throws Exception {
        String bootstrap = ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
        int before = KafkaClients.readAll(bootstrap, PlatformTopics.DLQ).size();
        Random random = new Random(11);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
            List<Future<?>> sent = new ArrayList<>();
            for (int i = 0; i < COUNT; i++) {
                String value = switch (i % 5) {
                    case 0 -> randomText(random);                                              // not JSON
                    case 1 -> "{\"schema\": \"cna.prompt-pairs/v9\", \"id\": \"" + i + "\"}";  // unknown schema version
                    case 2 -> "{\"schema\": \"cna.prompt-pairs/v1\", \"id\": \"b" + i + "\", \"feature\": \"other\", "
                            + "\"positive\": [\"a\"], \"negative\": [\"b\"]}";                    // key mismatch
                    case 3 -> "{\"schema\": \"cna.prompt-pairs/v1\", \"id\": \"c" + i + "\", \"feature\": \"bad-events\", "
                            + "\"positive\": [], \"negative\": [\"b\"]}";                          // empty list
                    default -> "{\"schema\": \"cna.prompt-pairs/v1\", \"id\": \"d" + i + "\", \"feature\": \"bad-events\", "
                            + "\"positive\": [\"a\"], \"negative\": [\"b\"], \"options\": {\"bogus\": 1}}"; // unknown option
                };
                sent.add(producer.send(new ProducerRecord<>(PlatformTopics.PROMPT_PAIRS, "bad-events", value)));
            }
            for (Future<?> f : sent) {
                f.get();
            }
        }
        Platform.await(() -> KafkaClients.readAll(bootstrap, PlatformTopics.DLQ).size() >= before + COUNT,
                Duration.ofMinutes(2), "all " + COUNT + " bad events in the DLQ");
        List<ConsumerRecord<String, String>> dlq = KafkaClients.readAll(bootstrap, PlatformTopics.DLQ);
        assertEquals(before + COUNT, dlq.size(), "each bad event dead-lettered once");
        for (ConsumerRecord<String, String> r : dlq.subList(before, dlq.size())) {
            assertTrue(r.headers().lastHeader("cna-error") != null && r.headers().lastHeader("cna-error-detail") != null,
                    "DLQ record at " + r.offset() + " says why");
        }
        // attribution-service kept going: a good event after the garbage is counted
        given().auth().oauth2(ADMIN_KEY).contentType("application/json")
                .body("{\"positive\": [\"Bonjour !\"], \"negative\": [\"Hello!\"]}")
                .post("/api/features/after-bad-events/pairs").then().statusCode(202);
        Platform.await(() -> given().auth().oauth2(Platform.CHAT_KEY).get("/api/features/after-bad-events").statusCode() == 200,
                Duration.ofMinutes(1), "the good event after the bad ones is applied");
    }
}
