package dev.cna.gateway;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.cna.gateway.Platform.CHAT_KEY;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the gateway refuses itself, before steering-service is asked (none runs here), in OpenAI's envelope with the
 * field at fault: the legacy completions body and the chat fields this issue added.
 */
@QuarkusTest
class RequestFieldsTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/v1/completions|{\"prompt\": \"def f(\", \"suffix\": \"x\"}|suffix is not supported|suffix",
            "/v1/completions|{\"prompt\": \"a\", \"max_tokens\": 0}|max_tokens must be at least 1 without echo: true|max_tokens",
            "/v1/completions|{\"prompt\": \"a\", \"logprobs\": 6}|logprobs must be an integer from 0 to 5|logprobs",
            "/v1/completions|{\"prompt\": \"a\", \"best_of\": 2}|best_of must be 1|best_of",
            "/v1/completions|{\"prompt\": \"a\", \"n\": 2}|n must be 1|n",
            "/v1/completions|{\"prompt\": [\"a\", [1, 2]]}|prompt must be all strings or all token-id lists|prompt",
            "/v1/completions|{\"prompt\": [[1, -2]]}|prompt must be a string, a list of strings|prompt",
            "/v1/completions|{\"prompt\": 5}|prompt must be a string, a list of strings|prompt",
            "/v1/completions|{\"max_tokens\": 5}|prompt is required|prompt",
            "/v1/completions?steering=x:1|{\"prompt\": \"a\", \"steering\": []}|steering is given twice|steering",
            "/v1/completions?steering=x|{\"prompt\": \"a\"}|the steering query parameter must be NAME:MULTIPLIER|",
            "/v1/chat/completions|{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}], \"top_logprobs\": 2}|top_logprobs needs logprobs: true|top_logprobs",
            "/v1/chat/completions|{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}], \"logprobs\": true, \"top_logprobs\": 21}|top_logprobs must be an integer from 0 to 20|top_logprobs",
            "/v1/chat/completions|{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}], \"logit_bias\": [1]}|logit_bias must be an object|logit_bias",
            "/v1/chat/completions|{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}], \"presence_penalty\": \"high\"}|presence_penalty must be a number|presence_penalty",
            "/v1/chat/completions|{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}], \"n\": 0}|n must be an integer from 1 to 8|n"})
    void badFieldsAre400sInOpenAisEnvelope(String path, String body, String message, String param) {
        var r = given().auth().oauth2(CHAT_KEY).contentType(ContentType.JSON).body(body).post(path);
        assertEquals(400, r.statusCode(), r.asString());
        assertTrue(r.jsonPath().getString("error.message").contains(message), r.asString());
        assertEquals("invalid_request_error", r.jsonPath().getString("error.type"));
        assertEquals(param, r.jsonPath().getString("error.param"), r.asString());
    }
}
