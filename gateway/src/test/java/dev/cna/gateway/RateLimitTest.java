package dev.cna.gateway;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.cna.gateway.Problems.assertProblem;
import static io.restassured.RestAssured.given;

/** A tight limit (one request per 2 s, burst 2) on its own app instance, so the other tests' requests do not count. */
@QuarkusTest
@TestProfile(RateLimitTest.Tight.class)
class RateLimitTest {
    public static class Tight implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("cna.gateway.rate-limit.requests-per-second", "0.5", "cna.gateway.rate-limit.burst", "2");
        }
    }

    private static final String PATH = "/api/features/french";

    @Test
    void theBurstPassesThenA429WithRetryAfterPerKeyUntilTheBucketRefills() throws InterruptedException {
        // past the limit, a request meets the absent attribution-service (503)
        given().auth().oauth2("test-chat").get(PATH).then().statusCode(503);
        given().auth().oauth2("test-chat").get(PATH).then().statusCode(503);
        var limited = given().auth().oauth2("test-chat").get(PATH);
        assertProblem(limited, 429, "too-many-requests", PATH, "0.5 requests/s, burst 2");
        limited.then().header("Retry-After", "2");

        given().auth().oauth2("test-admin").get(PATH).then().statusCode(503); // another key, another bucket

        Thread.sleep(2100); // one token back, and less than half of the next
        given().auth().oauth2("test-chat").get(PATH).then().statusCode(503);
        given().auth().oauth2("test-chat").get(PATH).then().statusCode(429);
    }
}
