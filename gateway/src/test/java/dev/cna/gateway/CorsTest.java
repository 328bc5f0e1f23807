package dev.cna.gateway;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

/** CORS as gateway/README.md documents turning it on (ApiTest checks it is off by default). */
@QuarkusTest
@TestProfile(CorsTest.Enabled.class)
class CorsTest {
    public static class Enabled implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.http.cors.enabled", "true", "quarkus.http.cors.origins", "https://chat.example.org");
        }
    }

    @Test
    void aConfiguredOriginMayCallAndOthersMayNot() {
        given().header("Origin", "https://chat.example.org").header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization,content-type")
                .options("/api/features/french/pairs").then()
                .header("Access-Control-Allow-Origin", equalTo("https://chat.example.org"))
                .header("Access-Control-Allow-Methods", containsString("POST"));
        given().header("Origin", "https://elsewhere.example").header("Access-Control-Request-Method", "POST")
                .options("/api/features/french/pairs").then()
                .header("Access-Control-Allow-Origin", nullValue());
    }
}
