package dev.cna.steering;

import dev.cna.api.Problem;
import dev.cna.devstack.DevKafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** With one row and one queue place, a third request is turned away with 429 and nothing else is disturbed. */
@QuarkusTest
@QuarkusTestResource(DevKafkaTestResource.class)
@TestProfile(QueueLimitTest.OneSlot.class)
class QueueLimitTest {
    public static class OneSlot implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("cna.steering.max-batch", "1", "cna.steering.queue-capacity", "1");
        }
    }

    @Test
    void aFullQueueAnswers429WithRetryAfterAndTheOthersFinish() {
        TestPlatform.awaitReady();
        String longReply = TestPlatform.request("Write a long story about a lighthouse keeper.", 1024, null);
        try (SseStream running = SseStream.post(TestPlatform.url("/generate"), longReply);
             SseStream queued = SseStream.post(TestPlatform.url("/generate"), TestPlatform.request("Say hi.", 2, null))) {
            running.awaitToken(1);
            Response third = given().contentType("application/json").body(longReply).post("/generate");
            third.then().statusCode(429).contentType(startsWith(Problem.MEDIA_TYPE))
                    .header("Retry-After", equalTo("1"))
                    .body("type", equalTo("urn:cna:problem:queue-full"));
            running.close(); // frees the row: the queued request runs
            List<SseStream.Event> events = queued.rest();
            assertEquals("done", events.get(events.size() - 1).name());
        }
    }
}
